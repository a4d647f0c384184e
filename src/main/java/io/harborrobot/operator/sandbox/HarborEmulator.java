package io.harborrobot.operator.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process Harbor that serves the robot-account API over real HTTP with real JSON, behaving
 * the way {@code shared/harbor/ROBOT_API.md} describes Harbor v2.15 (status codes, messages,
 * validation order, name rules, expiry arithmetic, random permission order, one-time secrets, the
 * configurable name prefix, pagination, the double-unescaped {@code q}, login lockout), not the way
 * a client would like it to behave.
 *
 * <p>Served: {@code GET /api/v2.0/ping}, {@code /health}, {@code /systeminfo}, {@code
 * /permissions}, {@code GET /api/v2.0/projects/{name_or_id}}, {@code GET|POST /api/v2.0/robots},
 * {@code GET|PUT|PATCH|DELETE /api/v2.0/robots/{id}} and the registry login check {@code GET /v2/}.
 * The only API user is the administrator ({@link #setAdminCredentials}); robots may call the API
 * too, with the permissions they hold (Harbor 2.12+ rules: no {@code robot:update}).
 *
 * <p>The "by hand" methods change state the way a person in the Harbor UI would, without HTTP.
 * {@link #setVersion} makes it behave like an older release (no robot API before 2.2; 2.2 - 2.10
 * duration and allowlist rules) and {@link #setReadOnly} like Harbor's read-only mode. Fault
 * injection ({@link #failNext}, {@link #loseResponseNext}, {@link #setErrorRate}, {@link
 * #setLostResponseRate}, {@link #setLatency}, {@link #setLatencySpikes}, seedable with {@link
 * #setSeed}) and the observations (request counters, {@link #requestTimes}, {@link
 * #maxRequestsInAnyWindow}, {@link #maxConcurrentRequests}, an {@link ExchangeObserver}) let tests
 * check how a client copes. Secrets are kept only as salted SHA-256 hashes and are never logged;
 * the one exception is {@link #secretsEverIssued}, a process-wide record for leak tests. All
 * methods are thread-safe.
 */
public final class HarborEmulator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HarborEmulator.class);

  private static final String API = "/api/v2.0";
  private static final String DEFAULT_PREFIX = "robot$";
  private static final String DEFAULT_ADMIN = "admin";
  private static final String DEFAULT_ADMIN_PASSWORD = "Harbor12345";
  private static final Duration DEFAULT_LOCKOUT = Duration.ofMillis(1500);
  private static final long ADMIN_USER_ID = 1;
  private static final long ALL_PROJECTS = -1;
  private static final long NEVER = -1;
  private static final long SECONDS_PER_DAY = 86_400;
  private static final int THREADS = 16;
  private static final Version DEFAULT_VERSION = new Version(2, 15, 2);
  private static final Pattern VERSION_RULE = Pattern.compile("v?(\\d+)\\.(\\d+)\\.(\\d+)");

  /** {@code robot_token_duration}: what Harbor 2.2 - 2.10 use for a duration of 0 (days). */
  static final long DEFAULT_ROBOT_DURATION_DAYS = 30;

  private static final String READ_ONLY_MESSAGE =
      "The system is in read only mode. Any modification is prohibited.";
  private static final Pattern NAME_RULE = Pattern.compile("^[a-z0-9]+(?:[._-][a-z0-9]+)*$");
  private static final String ALNUM =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  private static final DateTimeFormatter TIME_FORMAT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter Q_TIME_FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);

  /** Allowed {@code resource:action} pairs for {@code kind:"project"} (ROBOT_API.md §5). */
  static final List<String> PROJECT_PERMISSIONS =
      List.of(
          "accessory:list",
          "artifact:read",
          "artifact:create",
          "artifact:list",
          "artifact:delete",
          "artifact-addition:read",
          "artifact-label:create",
          "artifact-label:delete",
          "export-cve:create",
          "export-cve:read",
          "immutable-tag:create",
          "immutable-tag:delete",
          "immutable-tag:list",
          "immutable-tag:update",
          "label:read",
          "label:create",
          "label:delete",
          "label:list",
          "label:update",
          "log:list",
          "member:create",
          "member:read",
          "member:update",
          "member:list",
          "member:delete",
          "metadata:read",
          "metadata:create",
          "metadata:delete",
          "metadata:list",
          "metadata:update",
          "notification-policy:read",
          "notification-policy:create",
          "notification-policy:delete",
          "notification-policy:list",
          "notification-policy:update",
          "preheat-policy:read",
          "preheat-policy:create",
          "preheat-policy:delete",
          "preheat-policy:list",
          "preheat-policy:update",
          "project:read",
          "project:delete",
          "project:update",
          "quota:read",
          "repository:read",
          "repository:update",
          "repository:delete",
          "repository:list",
          "repository:pull",
          "repository:push",
          "robot:create",
          "robot:read",
          "robot:list",
          "robot:delete",
          "sbom:create",
          "sbom:stop",
          "sbom:read",
          "scan:create",
          "scan:read",
          "scan:stop",
          "scanner:create",
          "scanner:read",
          "tag:create",
          "tag:list",
          "tag:delete",
          "tag-retention:read",
          "tag-retention:create",
          "tag-retention:delete",
          "tag-retention:list",
          "tag-retention:update");

  /** Allowed {@code resource:action} pairs for {@code kind:"system"} (ROBOT_API.md §5). */
  static final List<String> SYSTEM_PERMISSIONS =
      List.of(
          "audit-log:list",
          "catalog:read",
          "garbage-collection:read",
          "garbage-collection:create",
          "garbage-collection:list",
          "garbage-collection:update",
          "garbage-collection:stop",
          "jobservice-monitor:list",
          "jobservice-monitor:stop",
          "label:read",
          "label:create",
          "label:delete",
          "label:update",
          "ldap-user:create",
          "ldap-user:list",
          "preheat-instance:read",
          "preheat-instance:create",
          "preheat-instance:delete",
          "preheat-instance:list",
          "preheat-instance:update",
          "project:list",
          "project:create",
          "purge-audit:read",
          "purge-audit:create",
          "purge-audit:list",
          "purge-audit:update",
          "purge-audit:stop",
          "quota:read",
          "quota:list",
          "quota:update",
          "registry:read",
          "registry:create",
          "registry:delete",
          "registry:list",
          "registry:update",
          "replication:read",
          "replication:create",
          "replication:list",
          "replication-adapter:list",
          "replication-policy:read",
          "replication-policy:create",
          "replication-policy:delete",
          "replication-policy:list",
          "replication-policy:update",
          "robot:create",
          "robot:read",
          "robot:list",
          "robot:delete",
          "scan-all:read",
          "scan-all:update",
          "scan-all:stop",
          "scan-all:create",
          "scanner:read",
          "scanner:create",
          "scanner:delete",
          "scanner:list",
          "scanner:update",
          "security-hub:read",
          "security-hub:list",
          "system-volumes:read",
          "user:create",
          "user:read",
          "user:update",
          "user:list",
          "user:delete",
          "user-group:create",
          "user-group:read",
          "user-group:update",
          "user-group:list",
          "user-group:delete");

  private static final Set<String> PROJECT_ALLOWED = Set.copyOf(PROJECT_PERMISSIONS);
  private static final Set<String> SYSTEM_ALLOWED = Set.copyOf(SYSTEM_PERMISSIONS);

  /** q keys (model field names and DB columns) that filter or sort robots. */
  private static final Map<String, String> COLUMNS =
      Map.ofEntries(
          Map.entry("id", "id"),
          Map.entry("ID", "id"),
          Map.entry("name", "name"),
          Map.entry("Name", "name"),
          Map.entry("description", "description"),
          Map.entry("Description", "description"),
          Map.entry("project_id", "project_id"),
          Map.entry("ProjectID", "project_id"),
          Map.entry("disabled", "disabled"),
          Map.entry("Disabled", "disabled"),
          Map.entry("duration", "duration"),
          Map.entry("Duration", "duration"),
          Map.entry("expires_at", "expires_at"),
          Map.entry("ExpiresAt", "expires_at"),
          Map.entry("creator_type", "creator_type"),
          Map.entry("CreatorType", "creator_type"),
          Map.entry("creator_ref", "creator_ref"),
          Map.entry("CreatorRef", "creator_ref"),
          Map.entry("visible", "visible"),
          Map.entry("Visible", "visible"),
          Map.entry("creation_time", "creation_time"),
          Map.entry("CreationTime", "creation_time"),
          Map.entry("update_time", "update_time"),
          Map.entry("UpdateTime", "update_time"));

  static {
    // The JDK server writes a response's headers and body as two TCP segments; with Nagle's
    // algorithm the body then waits for the client's delayed ACK, ~40 ms on every response. The
    // property is read once, when the first HttpServer of the JVM starts, so set it before.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private static volatile ExchangeObserver defaultObserver;

  // Plaintext of every robot secret and admin password any emulator of this JVM held, for tests
  // that look for them where they must never appear. Bounded (oldest dropped) so that a long-lived
  // sandbox cannot grow without limit; a test suite issues a few thousand.
  private static final int ISSUED_LIMIT = 100_000;
  private static final Set<String> ISSUED_SECRETS = boundedSet(ISSUED_LIMIT);
  private static final Set<String> ADMIN_PASSWORDS = boundedSet(ISSUED_LIMIT);

  private final HttpServer server;
  private final ExecutorService executor;
  private final ObjectMapper json = new ObjectMapper();
  private final SecureRandom random = new SecureRandom();
  private final String buildCommit;
  private final int port;

  private final Object lock = new Object();
  // guarded by lock
  private final Map<String, Project> projectsByName = new HashMap<>();
  private final Map<Long, Project> projectsById = new HashMap<>();
  private final TreeMap<Long, RobotState> robotsById = new TreeMap<>();
  private final Map<String, RobotState> robotsByStoredName = new HashMap<>();
  private final Deque<Fault> faults = new ArrayDeque<>();
  private Random chaos = new Random();
  private long nextRobotId = 1;
  private long nextProjectId = 1;
  private String prefix = DEFAULT_PREFIX;
  private String adminUsername = DEFAULT_ADMIN;
  private byte[] adminSalt;
  private byte[] adminHash;

  private volatile Clock clock = Clock.systemUTC();
  private volatile Duration lockout = DEFAULT_LOCKOUT;
  private volatile Duration loginFailureDelay = Duration.ZERO;
  private volatile Duration latency = Duration.ZERO;
  private volatile ErrorRate errorRate = ErrorRate.OFF;
  private volatile double lostResponseRate;
  private volatile LatencySpikes latencySpikes = LatencySpikes.OFF;
  private volatile boolean readOnly;
  private volatile Version version = DEFAULT_VERSION;
  private volatile ExchangeObserver observer;
  private final ConcurrentHashMap<String, Instant> lockedUntil = new ConcurrentHashMap<>();
  private final AtomicInteger requestCount = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> routeCounts = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private static final int REQUEST_LOG_SIZE = 10_000;
  // guarded by itself
  private final Deque<LoggedRequest> requestLog = new ArrayDeque<>();

  private HarborEmulator(int port) {
    byte[] commit = new byte[4];
    random.nextBytes(commit);
    this.buildCommit = HexFormat.of().formatHex(commit);
    this.observer = defaultObserver;
    setAdminCredentials(DEFAULT_ADMIN, DEFAULT_ADMIN_PASSWORD);
    try {
      server =
          HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 256);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the Harbor emulator to 127.0.0.1:" + port, e);
    }
    AtomicInteger threadNumber = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "harbor-emulator-" + threadNumber.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    executor = Executors.newFixedThreadPool(THREADS, threads);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    this.port = server.getAddress().getPort();
  }

  /** Starts an emulator on 127.0.0.1 and a random free port (admin/Harbor12345, prefix robot$). */
  public static HarborEmulator start() {
    return new HarborEmulator(0);
  }

  /** Starts an emulator on 127.0.0.1 and the given port (0 for a random free port). */
  public static HarborEmulator start(int port) {
    return new HarborEmulator(port);
  }

  /** {@code http://127.0.0.1:<port>}: Harbor's external URL, without {@code /api/v2.0}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** {@code 127.0.0.1:<port>}: the docker login host, as {@code systeminfo.registry_url}. */
  public String registryHost() {
    return "127.0.0.1:" + port;
  }

  /**
   * The version {@code systeminfo} reports to authenticated callers, {@code v2.15.2-<8 hex>} unless
   * {@link #setVersion} chose another release.
   */
  public String harborVersion() {
    return version + "-" + buildCommit;
  }

  // ---------------------------------------------------------------------------------------------
  // configuration

  /** Sets the only API user (the system administrator, user id 1). */
  public void setAdminCredentials(String username, String password) {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    byte[] salt = newSalt();
    byte[] hash = hash(salt, password);
    ADMIN_PASSWORDS.add(password);
    synchronized (lock) {
      adminUsername = username;
      adminSalt = salt;
      adminHash = hash;
    }
  }

  /**
   * Sets {@code robot_name_prefix}. Harbor adds the prefix when it reads a robot, so this renames
   * every robot at once: logins with the old full names stop working.
   */
  public void setRobotNamePrefix(String prefix) {
    if (prefix == null || prefix.trim().isEmpty()) {
      throw new IllegalArgumentException("the robot name prefix must not be empty");
    }
    synchronized (lock) {
      this.prefix = prefix;
    }
  }

  /** The current {@code robot_name_prefix}. */
  public String robotNamePrefix() {
    synchronized (lock) {
      return prefix;
    }
  }

  /** The clock used for creation times, expiry arithmetic, expiry checks and the login lockout. */
  public void setClock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * How long a failed basic-auth login locks that username (Harbor: 1.5 s). While locked, the
   * administrator is refused even with the right password. As in Harbor, a robot with the right
   * secret still gets in, because robot credentials are checked before the locked user login.
   * {@link Duration#ZERO} disables the lockout.
   */
  public void setLoginLockout(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("negative lockout");
    }
    this.lockout = duration;
  }

  /**
   * How long the server waits before answering a failed basic-auth login. Harbor sleeps 1.5 s
   * there; the emulator does not unless told to (default {@link Duration#ZERO}).
   */
  public void setLoginFailureDelay(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("negative delay");
    }
    this.loginFailureDelay = delay;
  }

  /** Whether a failed login currently locks {@code username}. */
  public boolean isLockedOut(String username) {
    return isLocked(username, now());
  }

  /**
   * Which Harbor release to behave like (ROBOT_API.md §4, §8, §10), e.g. {@code "v2.15.2"} (the
   * default), {@code "v2.9.1"} or {@code "v2.1.0"}; the leading {@code v} is optional. {@code
   * systeminfo} reports it. Below 2.2 there is no robot API ({@code /api/v2.0/robots*} answer 404).
   * From 2.2 to 2.10 a duration of 0 on create means the system default of 30 days instead of 400,
   * a PUT without {@code duration} (or with 0) resets the robot to the default duration counted
   * from its creation time, and neither {@code /api/v2.0/permissions} (404) nor the permission
   * allowlist exist yet. From 2.11 on the emulator behaves as described in ROBOT_API.md.
   *
   * @throws IllegalArgumentException for anything but {@code [v]major.minor.patch} with major 2 or
   *     more (the emulator serves {@code /api/v2.0} only)
   */
  public void setVersion(String harborVersion) {
    Objects.requireNonNull(harborVersion, "harborVersion");
    var m = VERSION_RULE.matcher(harborVersion.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a Harbor version: " + harborVersion);
    }
    Version v =
        new Version(
            Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)));
    if (v.major() < 2) {
      throw new IllegalArgumentException(
          "the emulator serves /api/v2.0 only (Harbor 2.0 or later): " + harborVersion);
    }
    this.version = v;
  }

  /** The release the emulator behaves like, e.g. {@code "v2.15.2"} (without the build commit). */
  public String version() {
    return version.toString();
  }

  /**
   * Harbor's read-only mode: every request but GET, HEAD and OPTIONS is answered {@code 403
   * {"errors":[{"code":"DENIED","message":"The system is in read only mode. Any modification is
   * prohibited."}]}} before anything else looks at it, and {@code systeminfo} reports {@code
   * read_only: true}.
   */
  public void setReadOnly(boolean readOnly) {
    this.readOnly = readOnly;
  }

  /** Whether read-only mode is on. */
  public boolean isReadOnly() {
    return readOnly;
  }

  // ---------------------------------------------------------------------------------------------
  // projects

  /** Creates a project and returns its id; returns the existing id if it already exists. */
  public long createProject(String name) {
    if (name == null || name.length() > 255 || !NAME_RULE.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid project name: " + name);
    }
    synchronized (lock) {
      Project existing = projectsByName.get(name);
      if (existing != null) {
        return existing.id();
      }
      Project project = new Project(nextProjectId++, name, now());
      projectsByName.put(name, project);
      projectsById.put(project.id(), project);
      return project.id();
    }
  }

  /** The id of the project {@code name}, if it exists. */
  public Optional<Long> projectId(String name) {
    synchronized (lock) {
      return Optional.ofNullable(projectsByName.get(name)).map(Project::id);
    }
  }

  /**
   * Deletes a project and, as Harbor does, its project robots. System robots keep their scopes on
   * it, which are then hidden (a project created again with that name gets a new id). Does nothing
   * if the project does not exist.
   */
  public void deleteProject(String name) {
    synchronized (lock) {
      Project project = projectsByName.remove(name);
      if (project == null) {
        return;
      }
      projectsById.remove(project.id());
      List<RobotState> doomed =
          robotsById.values().stream().filter(r -> r.projectId == project.id()).toList();
      doomed.forEach(this::removeRobot);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // "by hand": what a person does in the Harbor UI

  /** A snapshot of all robots, by id. */
  public List<EmulatedRobot> robots() {
    synchronized (lock) {
      return robotsById.values().stream().map(this::snapshot).toList();
    }
  }

  /** A snapshot of robot {@code id}. */
  public Optional<EmulatedRobot> robot(long id) {
    synchronized (lock) {
      return Optional.ofNullable(robotsById.get(id)).map(this::snapshot);
    }
  }

  /** The project robot {@code robotName} (short name, without prefix and project) of a project. */
  public Optional<EmulatedRobot> findRobot(String project, String robotName) {
    synchronized (lock) {
      Project p = projectsByName.get(project);
      if (p == null) {
        return Optional.empty();
      }
      RobotState r = robotsByStoredName.get(p.name() + "+" + robotName);
      return r == null || r.projectId != p.id() ? Optional.empty() : Optional.of(snapshot(r));
    }
  }

  /**
   * Creates an enabled project robot as the UI does (no {@code effect} on its permissions, creator
   * the administrator) and returns its id. The secret Harbor generated is not returned: use {@link
   * #refreshSecretByHand} to get a usable one. Permissions are not checked against the allowlist,
   * so robots from before Harbor 2.10 (e.g. {@code repository:*}) can be modelled.
   *
   * @throws IllegalArgumentException for a bad name, duration, permission or unknown project
   * @throws IllegalStateException when the robot already exists
   */
  public long createRobotByHand(
      String project, String robotName, Set<String> permissions, long durationDays) {
    if (robotName == null || !NAME_RULE.matcher(robotName).matches()) {
      throw new IllegalArgumentException("invalid robot name: " + robotName);
    }
    if (!isValidDuration(durationDays)) {
      throw new IllegalArgumentException("invalid duration: " + durationDays);
    }
    List<Access> access = accessFromPairs(permissions);
    synchronized (lock) {
      Project p = projectsByName.get(project);
      if (p == null) {
        throw new IllegalArgumentException("project " + project + " not found");
      }
      String storedName = p.name() + "+" + robotName;
      if (robotsByStoredName.containsKey(storedName)) {
        throw new IllegalStateException(
            "robot account " + p.id() + ":" + storedName + " already exists");
      }
      Instant now = now();
      RobotState r =
          new RobotState(nextRobotId++, p.id(), storedName, newSalt(), now, "local", ADMIN_USER_ID);
      r.duration = durationDays;
      r.expiresAt = expiryFrom(now, durationDays);
      r.scopes = List.of(new Scope("project", p.id(), access));
      r.secretHash = hash(r.salt, generateSecret());
      addRobot(r);
      return r.id;
    }
  }

  /** Generates a new secret for robot {@code id} (the old one stops working) and returns it. */
  public String refreshSecretByHand(long id) {
    synchronized (lock) {
      RobotState r = requireRobot(id);
      String secret = generateSecret();
      r.secretHash = hash(r.salt, secret);
      r.updateTime = now();
      return secret;
    }
  }

  /** Deletes robot {@code id}. */
  public void deleteRobotByHand(long id) {
    synchronized (lock) {
      removeRobot(requireRobot(id));
    }
  }

  /** Disables or enables robot {@code id}. */
  public void setDisabledByHand(long id, boolean disabled) {
    synchronized (lock) {
      RobotState r = requireRobot(id);
      r.disabled = disabled;
      r.updateTime = now();
    }
  }

  /**
   * Replaces the permissions of project robot {@code id} with {@code "resource:action"} pairs (no
   * {@code effect}, as the UI stores them; not checked against the allowlist).
   */
  public void setPermissionsByHand(long id, Set<String> permissions) {
    List<Access> access = accessFromPairs(permissions);
    synchronized (lock) {
      RobotState r = requireRobot(id);
      if (r.projectId == 0) {
        throw new IllegalArgumentException("robot " + id + " is a system robot");
      }
      r.scopes = List.of(new Scope("project", r.projectId, access));
      r.updateTime = now();
    }
  }

  /** Replaces the description of robot {@code id} ({@code null} clears it). */
  public void setDescriptionByHand(long id, String description) {
    synchronized (lock) {
      RobotState r = requireRobot(id);
      r.description = description == null ? "" : description;
      r.updateTime = now();
    }
  }

  /**
   * Sets the duration of robot {@code id} as the UI's edit dialog does (a PUT with another
   * duration): the expiry is recomputed from the creation time, so a short duration on an old robot
   * expires it at once.
   */
  public void setDurationByHand(long id, long durationDays) {
    synchronized (lock) {
      RobotState r = requireRobot(id);
      r.duration = durationDays;
      r.expiresAt = expiryFrom(r.creationTime, durationDays);
      r.updateTime = now();
    }
  }

  /** Sets {@code expires_at} of robot {@code id} (Unix seconds, -1 for never); keeps duration. */
  public void setExpiresAtByHand(long id, long epochSeconds) {
    synchronized (lock) {
      RobotState r = requireRobot(id);
      r.expiresAt = epochSeconds;
      r.updateTime = now();
    }
  }

  /**
   * Whether {@code username}/{@code secret} log in at {@code GET /v2/} right now: the same decision
   * as that endpoint (robot: current prefix, secret, enabled, not expired; or the administrator
   * when not locked out), without locking the username on failure.
   */
  public boolean credentialsWork(String username, String secret) {
    if (username == null || secret == null) {
      return false;
    }
    Instant now = now();
    synchronized (lock) {
      if (robotLogin(username, secret, now) != null) {
        return true;
      }
      return !isLocked(username, now)
          && username.equals(adminUsername)
          && matches(adminSalt, adminHash, secret);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // fault injection

  /**
   * The next request with this method ({@code null} or {@code "*"} for any) whose path (without
   * query) fully matches {@code pathRegex} gets {@code status} with Harbor's error body and is not
   * applied. One-shot; calls queue up. Same as {@code failNext(method, pathRegex, status, 1)}.
   */
  public void failNext(String method, String pathRegex, int status) {
    failNext(method, pathRegex, status, 1, null);
  }

  /**
   * The next {@code times} matching requests (as for {@link #failNext(String, String, int)}) get
   * {@code status} with Harbor's error body and are not applied.
   */
  public void failNext(String method, String pathRegex, int status, int times) {
    failNext(method, pathRegex, status, times, null);
  }

  /**
   * As {@link #failNext(String, String, int, int)}, and the answers carry {@code Retry-After:
   * <seconds>} (rounded up to whole seconds), as a rate limiter or an overloaded proxy would send.
   *
   * @param retryAfter {@code null} for no {@code Retry-After}; otherwise only with 429 or 503
   */
  public void failNext(
      String method, String pathRegex, int status, int times, Duration retryAfter) {
    checkErrorStatus(status);
    if (times < 1) {
      throw new IllegalArgumentException("times must be at least 1: " + times);
    }
    long retryAfterSeconds = retryAfterSeconds(status, retryAfter);
    Pattern path = Pattern.compile(pathRegex);
    synchronized (lock) {
      faults.add(new Fault(method, path, status, false, retryAfterSeconds, times));
    }
  }

  /**
   * The next matching request (as for {@link #failNext(String, String, int)}) is applied, then its
   * TCP connection is closed without any response. One-shot; calls queue up.
   */
  public void loseResponseNext(String method, String pathRegex) {
    Pattern path = Pattern.compile(pathRegex);
    synchronized (lock) {
      faults.add(new Fault(method, path, 0, true, -1, 1));
    }
  }

  /**
   * How many injected one-shot faults are still queued: the requests that {@link #failNext} and
   * {@link #loseResponseNext} have yet to hit. Rates ({@link #setErrorRate} etc.) do not count.
   */
  public int pendingFaults() {
    synchronized (lock) {
      return faults.stream().mapToInt(f -> f.remaining).sum();
    }
  }

  /**
   * Answers a random share of all requests (queued {@link #failNext} faults go first) with {@code
   * status} and Harbor's error body, without applying them. {@code setErrorRate(0, ...)} turns it
   * off. The dice are {@link #setSeed seedable}.
   *
   * @param rate from 0 to 1, e.g. 0.3 for 30 %
   */
  public void setErrorRate(double rate, int status) {
    setErrorRate(rate, status, null);
  }

  /**
   * As {@link #setErrorRate(double, int)}, and the answers carry {@code Retry-After: <seconds>}.
   *
   * @param retryAfter {@code null} for no {@code Retry-After}; otherwise only with 429 or 503
   */
  public void setErrorRate(double rate, int status, Duration retryAfter) {
    checkRate(rate);
    checkErrorStatus(status);
    long retryAfterSeconds = retryAfterSeconds(status, retryAfter);
    errorRate = rate == 0 ? ErrorRate.OFF : new ErrorRate(rate, status, retryAfterSeconds);
  }

  /**
   * A random share of the requests other than GET, HEAD and OPTIONS is applied, then its TCP
   * connection is closed without any response (a timeout after the commit). 0 turns it off.
   */
  public void setLostResponseRate(double rate) {
    checkRate(rate);
    lostResponseRate = rate;
  }

  /**
   * A random share of the requests waits {@code latency} after being applied and before the
   * response, on top of {@link #setLatency}. A rate of 0 turns it off.
   */
  public void setLatencySpikes(double rate, Duration latency) {
    checkRate(rate);
    Objects.requireNonNull(latency, "latency");
    if (latency.isNegative()) {
      throw new IllegalArgumentException("negative latency");
    }
    latencySpikes = rate == 0 ? LatencySpikes.OFF : new LatencySpikes(rate, latency);
  }

  /**
   * Seeds the dice of {@link #setErrorRate}, {@link #setLostResponseRate} and {@link
   * #setLatencySpikes}, so that the same sequence of requests meets the same faults. Requests that
   * run concurrently draw in arrival order, which is not reproducible.
   */
  public void setSeed(long seed) {
    synchronized (lock) {
      chaos = new Random(seed);
    }
  }

  /**
   * Drops every injected fault: the queued {@link #failNext}/{@link #loseResponseNext} faults, the
   * error rate, the lost-response rate, the latency spikes, the fixed {@link #setLatency latency}
   * and read-only mode. Data, counters, the version and the clock stay as they are.
   */
  public void clearFaults() {
    synchronized (lock) {
      faults.clear();
    }
    errorRate = ErrorRate.OFF;
    lostResponseRate = 0;
    latencySpikes = LatencySpikes.OFF;
    latency = Duration.ZERO;
    readOnly = false;
  }

  /** A delay added before every response ({@code null} or zero for none). */
  public void setLatency(Duration latency) {
    this.latency = latency == null ? Duration.ZERO : latency;
  }

  /**
   * Forgets robots, projects, all injected faults ({@link #clearFaults}), the seed, lockouts,
   * counters, the request log and its timings, and the concurrency high-water mark; puts the prefix
   * back to {@code robot$}, the version back to v2.15.2 and the clock back to the system clock. Ids
   * keep increasing, so an id from before never names a new robot. Admin credentials, the lockout
   * duration and the {@link #setExchangeObserver exchange observer} are kept.
   */
  public void reset() {
    synchronized (lock) {
      projectsByName.clear();
      projectsById.clear();
      robotsById.clear();
      robotsByStoredName.clear();
      prefix = DEFAULT_PREFIX;
      chaos = new Random();
    }
    clearFaults();
    version = DEFAULT_VERSION;
    clock = Clock.systemUTC();
    lockedUntil.clear();
    requestCount.set(0);
    routeCounts.clear();
    synchronized (requestLog) {
      requestLog.clear();
    }
    maxInFlight.set(inFlight.get());
  }

  private static void checkErrorStatus(int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status must be 4xx or 5xx: " + status);
    }
  }

  private static void checkRate(double rate) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("rate must be between 0 and 1: " + rate);
    }
  }

  private static long retryAfterSeconds(int status, Duration retryAfter) {
    if (retryAfter == null) {
      return -1;
    }
    if (status != 429 && status != 503) {
      throw new IllegalArgumentException("Retry-After goes with 429 or 503, not " + status);
    }
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("negative Retry-After");
    }
    long seconds = retryAfter.getSeconds();
    return retryAfter.getNano() > 0 ? seconds + 1 : seconds;
  }

  /** Rolls the dice: true with probability {@code rate} (no draw when the rate is 0). */
  private boolean chance(double rate) {
    if (rate <= 0) {
      return false;
    }
    synchronized (lock) {
      return chaos.nextDouble() < rate;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // observation

  /** How many HTTP requests arrived (including failed and injected ones). */
  public int requestCount() {
    return requestCount.get();
  }

  /**
   * Requests by route, e.g. {@code "POST /api/v2.0/robots"}, {@code "GET /api/v2.0/robots/{id}"},
   * {@code "GET /api/v2.0/projects/{name}"}, {@code "GET /v2/"}; unknown paths are counted under
   * their raw path.
   */
  public Map<String, Integer> requestCountsByRoute() {
    Map<String, Integer> counts = new TreeMap<>();
    routeCounts.forEach((k, v) -> counts.put(k, v.get()));
    return counts;
  }

  /**
   * The most recent requests (up to 10,000), oldest first, as {@code "METHOD path?query"} with the
   * path and query as sent (still URL-encoded).
   */
  public List<String> requestLog() {
    synchronized (requestLog) {
      return requestLog.stream().map(LoggedRequest::line).toList();
    }
  }

  /**
   * When the requests of {@link #requestLog()} arrived (same order, same bound), by the system
   * clock: the emulator's {@link #setClock settable clock} plays no part, so rate limits can be
   * measured while a test holds Harbor's time still.
   */
  public List<Instant> requestTimes() {
    synchronized (requestLog) {
      return requestLog.stream().map(LoggedRequest::at).toList();
    }
  }

  /**
   * The largest number of logged requests ({@link #requestTimes()}) that arrived within one window
   * of length {@code window}, i.e. in some half-open interval {@code [t, t + window)}. With a
   * client limited to N requests per second, {@code maxRequestsInAnyWindow(Duration.ofSeconds(1))}
   * stays at most N (plus its burst).
   */
  public int maxRequestsInAnyWindow(Duration window) {
    Objects.requireNonNull(window, "window");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("the window must be positive: " + window);
    }
    List<Instant> times = new ArrayList<>(requestTimes());
    Collections.sort(times);
    int best = 0;
    int from = 0;
    for (int to = 0; to < times.size(); to++) {
      Instant end = times.get(to);
      while (!times.get(from).plus(window).isAfter(end)) {
        from++;
      }
      best = Math.max(best, to - from + 1);
    }
    return best;
  }

  /**
   * The most requests that were in flight at once (arrived, response not yet started or the
   * connection not yet dropped) since the start or the last {@link #reset()}. The emulator serves
   * at most 16 requests at a time, so this never exceeds 16.
   */
  public int maxConcurrentRequests() {
    return maxInFlight.get();
  }

  /**
   * Sets the observer that sees every exchange this emulator serves ({@code null} for none). An
   * emulator starts with the {@link #setDefaultExchangeObserver default observer} of the moment.
   */
  public void setExchangeObserver(ExchangeObserver observer) {
    this.observer = observer;
  }

  /** The observer that sees this emulator's exchanges, or {@code null}. */
  public ExchangeObserver exchangeObserver() {
    return observer;
  }

  /**
   * Sets the observer that every emulator started from now on begins with ({@code null} for none).
   * Emulators already running keep theirs. Meant for test suites, which check every exchange.
   */
  public static void setDefaultExchangeObserver(ExchangeObserver observer) {
    defaultObserver = observer;
  }

  /** The observer that emulators started from now on begin with, or {@code null}. */
  public static ExchangeObserver defaultExchangeObserver() {
    return defaultObserver;
  }

  /**
   * Every robot secret any emulator in this JVM generated (create, refresh, by hand) or accepted
   * (PATCH with a chosen secret), in plaintext: for leak tests, which check that none of them shows
   * up in logs, Events or statuses. At most the latest 100,000.
   */
  public static Set<String> secretsEverIssued() {
    synchronized (ISSUED_SECRETS) {
      return Set.copyOf(ISSUED_SECRETS);
    }
  }

  /** Every admin password set with {@link #setAdminCredentials} in this JVM, for leak tests. */
  public static Set<String> adminPasswordsEverSet() {
    synchronized (ADMIN_PASSWORDS) {
      return Set.copyOf(ADMIN_PASSWORDS);
    }
  }

  private static Set<String> boundedSet(int limit) {
    return Collections.synchronizedSet(
        Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
              private static final long serialVersionUID = 1L;

              @Override
              protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > limit;
              }
            }));
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP plumbing

  private void handle(HttpExchange exchange) {
    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    boolean inFlightCounted = true;
    try {
      Instant arrival = Instant.now();
      String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
      String rawPath = exchange.getRequestURI().getRawPath();
      String rawQuery = exchange.getRequestURI().getRawQuery();
      requestCount.incrementAndGet();
      routeCounts
          .computeIfAbsent(routeKey(method, rawPath), k -> new AtomicInteger())
          .incrementAndGet();
      logRequest(
          new LoggedRequest(
              arrival, method + " " + rawPath + (rawQuery == null ? "" : "?" + rawQuery)));
      String requestId = exchange.getRequestHeaders().getFirst("X-Request-Id");
      if (requestId == null || requestId.isEmpty()) {
        requestId = UUID.randomUUID().toString();
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      Fault fault = takeFault(method, rawPath);
      ErrorRate errors = errorRate;
      Response response;
      boolean injected = true;
      boolean lose = false;
      if (fault != null && !fault.lose) {
        response = injectedError(fault.status, fault.retryAfterSeconds);
      } else if (fault == null && chance(errors.rate())) {
        response = injectedError(errors.status(), errors.retryAfterSeconds());
      } else {
        response = respond(method, rawPath, rawQuery, exchange.getRequestHeaders(), body);
        if (fault != null) {
          lose = true;
        } else if (!isSafe(method) && chance(lostResponseRate)) {
          lose = true;
        } else {
          injected = false;
        }
      }
      Map<String, String> headers = lose ? Map.of() : responseHeaders(method, response, requestId);
      ExchangeObserver watcher = observer;
      if (watcher != null) {
        notify(
            watcher,
            new RecordedExchange(
                arrival,
                method,
                rawPath,
                rawQuery,
                exchange.getRequestHeaders(),
                body,
                lose ? RecordedExchange.NO_RESPONSE : response.status(),
                lose ? Map.of() : headersAsLists(headers),
                lose || method.equals("HEAD") || response.body() == null
                    ? new byte[0]
                    : response.body(),
                injected));
      }
      pause(latency);
      LatencySpikes spikes = latencySpikes;
      if (chance(spikes.rate())) {
        pause(spikes.latency());
      }
      // No longer in flight once the answer starts out: a client that waits for each response
      // before sending the next request is never seen with two requests in flight.
      inFlight.decrementAndGet();
      inFlightCounted = false;
      if (lose) {
        LOG.debug("{} {} -> applied, connection closed without a response", method, rawPath);
        // Closing the exchange before sendResponseHeaders closes the TCP connection.
        return;
      }
      LOG.debug("{} {} -> {}", method, rawPath, response.status());
      send(exchange, method, response, headers);
    } catch (IOException e) {
      LOG.debug("I/O error while serving a request: {}", e.toString());
    } catch (RuntimeException e) {
      LOG.warn("Harbor emulator failed to serve a request", e);
    } finally {
      // Before sendResponseHeaders this closes the TCP connection without any response.
      exchange.close();
      if (inFlightCounted) {
        inFlight.decrementAndGet();
      }
    }
  }

  private void logRequest(LoggedRequest entry) {
    synchronized (requestLog) {
      requestLog.addLast(entry);
      while (requestLog.size() > REQUEST_LOG_SIZE) {
        requestLog.pollFirst();
      }
    }
  }

  private static void notify(ExchangeObserver watcher, RecordedExchange exchange) {
    try {
      watcher.observe(exchange);
    } catch (RuntimeException e) {
      LOG.warn("the exchange observer failed on {}", exchange, e);
    }
  }

  private static boolean isSafe(String method) {
    return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
  }

  private Response respond(
      String method, String rawPath, String rawQuery, Headers headers, byte[] body) {
    try {
      return dispatch(method, rawPath, rawQuery == null ? "" : rawQuery, headers, body);
    } catch (HarborError e) {
      return e.response();
    } catch (RuntimeException e) {
      LOG.warn("Harbor emulator error on {} {}", method, rawPath, e);
      return errorResponse(500, "UNKNOWN", "internal server error");
    }
  }

  /** The headers the emulator sets on a response, in order. */
  private static Map<String, String> responseHeaders(
      String method, Response response, String requestId) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("X-Request-Id", requestId);
    out.putAll(response.headers());
    byte[] body = response.body();
    if (body != null && body.length > 0) {
      out.put("Content-Type", response.contentType());
    }
    return out;
  }

  private static Map<String, List<String>> headersAsLists(Map<String, String> headers) {
    Map<String, List<String>> lists = new LinkedHashMap<>();
    headers.forEach((k, v) -> lists.put(k, List.of(v)));
    return lists;
  }

  private static void send(
      HttpExchange exchange, String method, Response response, Map<String, String> headers)
      throws IOException {
    Headers out = exchange.getResponseHeaders();
    headers.forEach(out::set);
    byte[] body = response.body();
    if (body == null || body.length == 0 || method.equals("HEAD")) {
      exchange.sendResponseHeaders(response.status(), -1);
      return;
    }
    exchange.sendResponseHeaders(response.status(), body.length);
    try (OutputStream os = exchange.getResponseBody()) {
      os.write(body);
    }
  }

  private static String routeKey(String method, String rawPath) {
    String route = rawPath;
    if (rawPath.equals(API + "/robots/")) {
      route = API + "/robots";
    } else if (rawPath.startsWith(API + "/robots/") && rawPath.indexOf('/', API.length() + 8) < 0) {
      route = API + "/robots/{id}";
    } else if (rawPath.startsWith(API + "/projects/")
        && rawPath.indexOf('/', API.length() + 10) < 0) {
      route = API + "/projects/{name}";
    } else if (rawPath.equals("/v2")) {
      route = "/v2/";
    }
    return method + " " + route;
  }

  /** Takes one hit from the first queued fault that matches; null when none does. */
  private Fault takeFault(String method, String rawPath) {
    synchronized (lock) {
      for (Iterator<Fault> it = faults.iterator(); it.hasNext(); ) {
        Fault f = it.next();
        boolean methodMatches =
            f.method == null || f.method.equals("*") || f.method.equalsIgnoreCase(method);
        if (methodMatches && f.path.matcher(rawPath).matches()) {
          if (--f.remaining == 0) {
            it.remove();
          }
          return f;
        }
      }
      return null;
    }
  }

  private static Response injectedError(int status, long retryAfterSeconds) {
    Response r = injectedError(status);
    return retryAfterSeconds < 0 ? r : r.with("Retry-After", Long.toString(retryAfterSeconds));
  }

  private static Response injectedError(int status) {
    if (status >= 500) {
      return errorResponse(status, "UNKNOWN", "internal server error");
    }
    return switch (status) {
      case 400 -> errorResponse(status, "BAD_REQUEST", "bad request");
      case 401 -> errorResponse(status, "UNAUTHORIZED", "unauthorized");
      case 403 -> errorResponse(status, "FORBIDDEN", "forbidden");
      case 404 -> errorResponse(status, "NOT_FOUND", "resource not found");
      case 405 -> errorResponse(status, "METHOD_NOT_ALLOWED", "method not allowed");
      case 409 -> errorResponse(status, "CONFLICT", "resource conflict");
      case 412 -> errorResponse(status, "PRECONDITION", "precondition failed");
      case 422 -> errorResponse(status, "UNPROCESSABLE_ENTITY", "unprocessable entity");
      case 429 -> errorResponse(status, "TOO_MANY_REQUEST", "too many requests");
      default -> errorResponse(status, "BAD_REQUEST", "injected failure");
    };
  }

  private Response dispatch(
      String method, String rawPath, String rawQuery, Headers headers, byte[] body) {
    if (readOnly && !isSafe(method)) {
      // the read-only middleware runs before routing, authentication and binding
      throw new HarborError(403, "DENIED", READ_ONLY_MESSAGE);
    }
    if (rawPath.equals("/v2/") || rawPath.equals("/v2")) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        throw new HarborError(405, "METHOD_NOT_ALLOWED", "method not allowed");
      }
      return registryLogin(headers);
    }
    if (!rawPath.startsWith(API + "/")) {
      throw new HarborError(404, "NOT_FOUND", "path " + rawPath + " was not found");
    }
    List<String> segments = segments(rawPath.substring(API.length() + 1));
    String first = segments.isEmpty() ? "" : segments.get(0);
    if (segments.size() == 1 && first.equals("ping")) {
      allow(method, "GET");
      return new Response(
          200, Map.of(), "Pong".getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
    }
    if (segments.size() == 1 && first.equals("health")) {
      allow(method, "GET");
      return health();
    }
    Request req =
        new Request(
            method,
            rawPath,
            rawQuery,
            headers,
            body,
            authenticate(headers.getFirst("Authorization"), true));
    if (segments.size() == 1 && first.equals("systeminfo")) {
      allow(method, "GET");
      checkMedia(req);
      return systemInfo(req);
    }
    Version v = version;
    if (first.equals("robots") && v.before(2, 2)) {
      // no robot v2 API before Harbor 2.2
      throw new HarborError(404, "NOT_FOUND", "path " + rawPath + " was not found");
    }
    if (segments.size() == 1 && first.equals("permissions")) {
      if (v.before(2, 10)) {
        throw new HarborError(404, "NOT_FOUND", "path " + rawPath + " was not found");
      }
      allow(method, "GET");
      checkMedia(req);
      return permissions(req);
    }
    if (segments.size() == 2 && first.equals("projects")) {
      allow(method, "GET");
      checkMedia(req);
      return getProject(req, segments.get(1));
    }
    if (first.equals("robots")
        && (segments.size() == 1 || (segments.size() == 2 && segments.get(1).isEmpty()))) {
      allow(method, "GET", "POST");
      checkMedia(req);
      return method.equals("GET") ? listRobots(req) : createRobot(req);
    }
    if (segments.size() == 2 && first.equals("robots")) {
      allow(method, "DELETE", "GET", "PATCH", "PUT");
      checkMedia(req);
      String idText = segments.get(1);
      return switch (method) {
        case "GET" -> getRobot(req, idText);
        case "PUT" -> updateRobot(req, idText);
        case "PATCH" -> refreshSecret(req, idText);
        default -> deleteRobot(req, idText);
      };
    }
    throw new HarborError(404, "NOT_FOUND", "path " + rawPath + " was not found");
  }

  private static List<String> segments(String rawRest) {
    List<String> segments = new ArrayList<>();
    for (String s : rawRest.split("/", -1)) {
      String decoded = pathUnescape(s);
      segments.add(decoded == null ? s : decoded);
    }
    return segments;
  }

  private static void allow(String method, String... allowed) {
    for (String a : allowed) {
      if (a.equals(method)) {
        return;
      }
    }
    throw new HarborError(
            405,
            "METHOD_NOT_ALLOWED",
            "method " + method + " is not allowed, but [" + String.join(",", allowed) + "] are")
        .withHeader("Allow", String.join(",", allowed));
  }

  /** go-swagger's content negotiation, which answers 422 like every binding failure. */
  private static void checkMedia(Request req) {
    if (req.body().length > 0) {
      String ct = req.headers().getFirst("Content-Type");
      String mime =
          ct == null || ct.isBlank()
              ? "application/octet-stream"
              : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      if (!mime.equals("application/json")) {
        throw unprocessable(
            List.of(
                "unsupported media type \"" + mime + "\", only [application/json] are allowed"));
      }
    }
    String accept = req.headers().getFirst("Accept");
    if (accept != null && !accept.isBlank()) {
      boolean ok = false;
      for (String range : accept.split(",")) {
        String r = range.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (r.equals("*/*") || r.equals("application/*") || r.equals("application/json")) {
          ok = true;
        }
      }
      if (!ok) {
        throw unprocessable(
            List.of("unsupported media type requested, only [application/json] are available"));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // authentication

  /**
   * Harbor's security-context chain for Basic auth: the robot generator first (current prefix,
   * secret, enabled, not expired; no lockout check), then the user login (lockout, password; a
   * failure locks the username). Anything else is anonymous.
   */
  private Principal authenticate(String authorization, boolean sideEffects) {
    String[] credentials = basicCredentials(authorization);
    if (credentials == null) {
      return Principal.ANONYMOUS;
    }
    String username = credentials[0];
    String password = credentials[1];
    Instant now = now();
    synchronized (lock) {
      RobotState robot = robotLogin(username, password, now);
      if (robot != null) {
        return new Principal(username, false, robot, true);
      }
      if (isLocked(username, now)) {
        return Principal.ANONYMOUS_WITH_BASIC;
      }
      if (username.equals(adminUsername) && matches(adminSalt, adminHash, password)) {
        return new Principal(username, true, null, true);
      }
    }
    if (sideEffects) {
      Duration d = lockout;
      if (!d.isZero()) {
        lockedUntil.put(username, now.plus(d));
      }
      pause(loginFailureDelay);
    }
    return Principal.ANONYMOUS_WITH_BASIC;
  }

  private static String[] basicCredentials(String authorization) {
    if (authorization == null || authorization.length() < 6) {
      return null;
    }
    if (!authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return null;
    }
    return new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
  }

  /** Caller holds {@code lock}. */
  private RobotState robotLogin(String username, String secret, Instant now) {
    if (!username.startsWith(prefix)) {
      return null;
    }
    RobotState r = robotsByStoredName.get(username.substring(prefix.length()));
    if (r == null || !matches(r.salt, r.secretHash, secret) || r.disabled) {
      return null;
    }
    if (r.expiresAt != NEVER && r.expiresAt <= now.getEpochSecond()) {
      return null;
    }
    return r;
  }

  private boolean isLocked(String username, Instant now) {
    if (username == null || lockout.isZero()) {
      return false;
    }
    Instant until = lockedUntil.get(username);
    return until != null && !now.isAfter(until);
  }

  /** Caller holds {@code lock}. 401 for anonymous callers, 403 without the permission. */
  private void requireAccess(Principal p, long projectId, String action) {
    if (!p.authenticated()) {
      throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
    }
    if (p.admin() || robotAllows(p.robot(), "robot", action, projectId)) {
      return;
    }
    throw forbidden(p, projectId);
  }

  /** Caller holds {@code lock}. Project given by name; unknown projects are fine for the admin. */
  private void requireProjectAccessByName(Principal p, String projectName, String action) {
    if (!p.authenticated()) {
      throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
    }
    if (p.admin()) {
      return;
    }
    Project project = projectsByName.get(projectName);
    if (project == null || !robotAllows(p.robot(), "robot", action, project.id())) {
      throw forbidden(p, project == null ? Long.MIN_VALUE : project.id());
    }
  }

  private static HarborError forbidden(Principal p, long projectId) {
    return new HarborError(403, "FORBIDDEN", projectId == 0 ? p.username() : "forbidden");
  }

  /**
   * Caller holds {@code lock}. Whether a robot's policies grant {@code resource:action} on the
   * system ({@code projectId == 0}) or on a project: an allow (effect "" or "allow") and no deny.
   */
  private boolean robotAllows(RobotState robot, String resource, String action, long projectId) {
    boolean allowed = false;
    for (Scope scope : robot.scopes) {
      boolean applies =
          projectId == 0
              ? scope.kind().equals("system")
              : scope.kind().equals("project")
                  && (scope.projectId() == projectId || scope.projectId() == ALL_PROJECTS);
      if (!applies) {
        continue;
      }
      for (Access a : scope.access()) {
        if (a.resource().equals(resource) && a.action().equals(action)) {
          if (a.effect().equals("deny")) {
            return false;
          }
          if (a.effect().isEmpty() || a.effect().equals("allow")) {
            allowed = true;
          }
        }
      }
    }
    return allowed;
  }

  // ---------------------------------------------------------------------------------------------
  // handlers

  private Response registryLogin(Headers headers) {
    Principal p = authenticate(headers.getFirst("Authorization"), true);
    if (p.authenticated()) {
      return new Response(
          200,
          Map.of("Docker-Distribution-Api-Version", "registry/2.0"),
          "{}\n".getBytes(StandardCharsets.UTF_8),
          "application/json; charset=utf-8");
    }
    String challenge =
        p.basicGiven()
            ? "Basic realm=\"harbor\""
            : "Bearer realm=\"" + baseUrl() + "/service/token\",service=\"harbor-registry\"";
    return errorResponse(401, "UNAUTHORIZED", "unauthorized")
        .with("WWW-Authenticate", challenge)
        .with("Docker-Distribution-Api-Version", "registry/2.0");
  }

  private Response health() {
    ObjectNode n = json.createObjectNode();
    n.put("status", "healthy");
    ArrayNode components = n.putArray("components");
    for (String c : List.of("core", "database", "jobservice", "portal", "redis", "registry")) {
      components.addObject().put("name", c).put("status", "healthy");
    }
    return ok(n);
  }

  private Response systemInfo(Request req) {
    ObjectNode n = json.createObjectNode();
    n.put("auth_mode", "db_auth");
    n.put("banner_message", "");
    n.put("current_time", TIME_FORMAT.format(now()));
    n.put("primary_auth_mode", false);
    n.put("self_registration", false);
    if (req.principal().authenticated()) {
      n.put("external_url", baseUrl());
      n.put("harbor_version", harborVersion());
      n.put("has_ca_root", false);
      n.put("notification_enable", true);
      n.put("project_creation_restriction", "everyone");
      n.put("read_only", readOnly);
      n.put("registry_storage_provider_name", "filesystem");
      n.put("registry_url", registryHost());
    }
    return ok(n);
  }

  private Response permissions(Request req) {
    Principal p = req.principal();
    if (!p.authenticated()) {
      throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
    }
    if (!p.admin()) {
      throw new HarborError(403, "FORBIDDEN", "forbidden");
    }
    ObjectNode n = json.createObjectNode();
    ArrayNode project = n.putArray("project");
    PROJECT_PERMISSIONS.forEach(pair -> addPair(project, pair));
    ArrayNode system = n.putArray("system");
    SYSTEM_PERMISSIONS.forEach(pair -> addPair(system, pair));
    return ok(n);
  }

  private static void addPair(ArrayNode array, String pair) {
    int colon = pair.indexOf(':');
    array
        .addObject()
        .put("action", pair.substring(colon + 1))
        .put("resource", pair.substring(0, colon));
  }

  private Response getProject(Request req, String nameOrId) {
    Principal p = req.principal();
    synchronized (lock) {
      boolean byName = "true".equalsIgnoreCase(req.headers().getFirst("X-Is-Resource-Name"));
      Long id = byName ? null : parseLongOrNull(nameOrId);
      Project project = id != null ? projectsById.get(id) : projectsByName.get(nameOrId);
      if (!p.authenticated()) {
        throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
      }
      if (!p.admin()) {
        boolean visible =
            project != null
                && p.robot().scopes.stream()
                    .anyMatch(
                        s ->
                            s.kind().equals("project")
                                && (s.projectId() == project.id()
                                    || s.projectId() == ALL_PROJECTS));
        if (!visible) {
          throw new HarborError(403, "FORBIDDEN", "forbidden");
        }
      }
      if (project == null) {
        throw new HarborError(404, "NOT_FOUND", "project " + nameOrId + " not found");
      }
      ObjectNode n = json.createObjectNode();
      n.put("creation_time", TIME_FORMAT.format(project.creationTime()));
      n.put("current_user_role_id", 1);
      n.putArray("current_user_role_ids").add(1);
      n.put("deleted", false);
      n.putObject("metadata").put("public", "false");
      n.put("name", project.name());
      n.put("owner_id", ADMIN_USER_ID);
      n.put("owner_name", adminUsername);
      n.put("project_id", project.id());
      n.put("repo_count", 0);
      n.put("togglable", true);
      n.put("update_time", TIME_FORMAT.format(project.creationTime()));
      return ok(n);
    }
  }

  private Response createRobot(Request req) {
    RobotIn in = bindRobot(req.body(), "robot", "RobotCreate", List.of());
    if (in.name() == null || !NAME_RULE.matcher(in.name()).matches()) {
      throw badRequest("robot name is not in lower case or contains illegal characters");
    }
    Version v = version;
    long duration = in.duration() == null ? 0 : in.duration();
    checkDuration(duration, v);
    if (duration == 0) {
      duration = DEFAULT_ROBOT_DURATION_DAYS; // Harbor 2.2 - 2.10: the system default
    }
    validate(in.level(), in.permissions(), v);
    String namespace = emptyIfNull(in.permissions().get(0).namespace());
    boolean projectLevel = in.level().equals("project");
    Principal p = req.principal();
    synchronized (lock) {
      if (projectLevel) {
        requireProjectAccessByName(p, namespace, "create");
      } else {
        requireAccess(p, 0, "create");
      }
      long projectId = 0;
      String storedName = in.name();
      if (projectLevel) {
        Project project = projectsByName.get(namespace);
        if (project == null) {
          throw new HarborError(404, "NOT_FOUND", "project " + namespace + " not found");
        }
        projectId = project.id();
        storedName = project.name() + "+" + in.name();
      }
      if (p.robot() != null) {
        checkCreatorScope(in.permissions(), p.robot());
      }
      String description = emptyIfNull(in.description());
      if (robotsByStoredName.containsKey(storedName)) {
        throw new HarborError(
            409, "CONFLICT", "robot account " + projectId + ":" + storedName + " already exists");
      }
      if (storedName.length() > 255 || description.length() > 1024) {
        // varchar(255) / varchar(1024) columns: the insert fails in the database
        throw new HarborError(500, "UNKNOWN", "internal server error");
      }
      List<Scope> scopes = toScopes(in.permissions());
      Instant now = now();
      RobotState r =
          new RobotState(
              nextRobotId++,
              projectId,
              storedName,
              newSalt(),
              now,
              p.admin() ? "local" : "robot",
              p.admin() ? ADMIN_USER_ID : p.robot().id);
      r.description = description;
      r.duration = duration;
      r.expiresAt = expiryFrom(now, duration);
      r.scopes = scopes;
      String secret = generateSecret();
      r.secretHash = hash(r.salt, secret);
      addRobot(r);
      ObjectNode n = json.createObjectNode();
      n.put("creation_time", TIME_FORMAT.format(r.creationTime));
      n.put("expires_at", r.expiresAt);
      n.put("id", r.id);
      n.put("name", prefix + r.storedName);
      n.put("secret", secret);
      String location = stripTrailingSlash(req.rawPath()) + "/" + r.id;
      return json(201, n).with("Location", location);
    }
  }

  private Response listRobots(Request req) {
    Map<String, List<String>> params = GoUrl.parseQuery(req.rawQuery());
    List<String> bindErrors = new ArrayList<>();
    long page = int64Param(params, "page", 1, bindErrors);
    long pageSize = int64Param(params, "page_size", 10, bindErrors);
    if (bindErrors.isEmpty() && pageSize > 100) {
      bindErrors.add("page_size in query should be less than or equal to 100");
    }
    if (!bindErrors.isEmpty()) {
      throw unprocessable(bindErrors);
    }
    Principal p = req.principal();
    if (!p.authenticated()) {
      throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
    }
    Map<String, Object> keywords = parseKeywords(lastValue(params, "q"));
    List<Sort> sorts = parseSorts(lastValue(params, "sort"));
    long projectId = 0;
    if (keywords.containsKey("Level")) {
      if (!(keywords.get("Level") instanceof String level)
          || !(level.equals("system") || level.equals("project"))) {
        throw badRequest("bad request error level input");
      }
      if (level.equals("project")) {
        if (!keywords.containsKey("ProjectID")) {
          throw badRequest("must with project ID when to query project robots");
        }
        Long pid = keywords.get("ProjectID") instanceof String s ? parseLongOrNull(s.trim()) : null;
        if (pid == null || pid <= 0) {
          throw badRequest("ProjectID must be a positive integer");
        }
        projectId = pid;
      } else {
        keywords.put("ProjectID", "0");
      }
    } else {
      keywords.put("ProjectID", "0");
    }
    keywords.put("Visible", "true");
    synchronized (lock) {
      requireAccess(p, projectId, "list");
      List<RobotState> matching = new ArrayList<>();
      for (RobotState r : robotsById.values()) {
        if (matchesKeywords(r, keywords)) {
          matching.add(r);
        }
      }
      matching.sort(comparator(sorts));
      long total = matching.size();
      List<RobotState> pageItems = matching;
      if (pageSize > 0) {
        long offset = page > 0 ? safeMultiply(pageSize, page - 1) : 0;
        int from = (int) Math.min(offset, total);
        int to = (int) Math.min(from + pageSize, total);
        pageItems = matching.subList(from, to);
      }
      ArrayNode array = json.createArrayNode();
      pageItems.forEach(r -> array.add(robotJson(r)));
      Response response = json(200, array).with("X-Total-Count", Long.toString(total));
      String link = links(req.rawPath(), req.rawQuery(), total, page, pageSize);
      return link.isEmpty() ? response : response.with("Link", link);
    }
  }

  private Response getRobot(Request req, String idText) {
    long id = bindRobotId(idText, List.of());
    synchronized (lock) {
      RobotState r = authenticatedRobot(req.principal(), id);
      requireAccess(req.principal(), r.projectId, "read");
      return json(200, robotJson(r));
    }
  }

  private Response updateRobot(Request req, String idText) {
    List<String> errors = new ArrayList<>();
    long id = bindRobotId(idText, errors);
    RobotIn in = bindRobot(req.body(), "robot", "Robot", errors);
    Principal p = req.principal();
    Version v = version;
    synchronized (lock) {
      RobotState r = authenticatedRobot(p, id);
      long duration;
      if (v.before(2, 11)) {
        // duration is not nullable yet: omitted means 0, and 0 means the system default
        duration = in.duration() == null ? 0 : in.duration();
      } else {
        duration = in.duration() == null ? r.duration : in.duration();
      }
      checkDuration(duration, v);
      validate(in.level(), in.permissions(), v);
      String namespace = emptyIfNull(in.permissions().get(0).namespace());
      if (r.projectId != 0) {
        Project project = projectsByName.get(namespace);
        if (project == null) {
          throw new HarborError(404, "NOT_FOUND", "project " + namespace + " not found");
        }
        if (project.id() != r.projectId) {
          throw badRequest("cannot update the project id of robot");
        }
      }
      requireAccess(p, r.projectId, "update");
      String level = r.projectId == 0 ? "system" : "project";
      if (!in.level().equals(level) || !Objects.equals(in.name(), prefix + r.storedName)) {
        throw badRequest("cannot update the level or name of robot");
      }
      String description = emptyIfNull(in.description());
      if (description.length() > 1024) {
        throw new HarborError(500, "UNKNOWN", "internal server error");
      }
      List<Scope> scopes = toScopes(in.permissions());
      if (duration != r.duration) {
        // 2.2 - 2.10: 0 never equals the stored duration, so it always resets to the default
        r.duration = duration == 0 ? DEFAULT_ROBOT_DURATION_DAYS : duration;
        r.expiresAt = expiryFrom(r.creationTime, r.duration);
      }
      r.description = description;
      r.disabled = in.disable();
      r.scopes = scopes;
      r.updateTime = now();
      return new Response(200, Map.of(), null, null);
    }
  }

  private Response refreshSecret(Request req, String idText) {
    List<String> errors = new ArrayList<>();
    long id = bindRobotId(idText, errors);
    String secret = bindSecret(req.body(), errors);
    Principal p = req.principal();
    synchronized (lock) {
      RobotState r = authenticatedRobot(p, id);
      requireAccess(p, r.projectId, "update");
      ObjectNode n = json.createObjectNode();
      if (secret.isEmpty()) {
        String generated = generateSecret();
        r.secretHash = hash(r.salt, generated);
        n.put("secret", generated);
      } else {
        if (!isValidSecret(secret)) {
          throw badRequest(
              "the secret must be 8-128, inclusively, characters long with at least 1 uppercase"
                  + " letter, 1 lowercase letter and 1 number");
        }
        r.secretHash = hash(r.salt, secret);
        ISSUED_SECRETS.add(secret);
      }
      r.updateTime = now();
      return json(200, n);
    }
  }

  private Response deleteRobot(Request req, String idText) {
    long id = bindRobotId(idText, List.of());
    synchronized (lock) {
      RobotState r = authenticatedRobot(req.principal(), id);
      requireAccess(req.principal(), r.projectId, "delete");
      removeRobot(r);
      return new Response(200, Map.of(), null, null);
    }
  }

  /** Caller holds {@code lock}. 401 before 404, as Harbor's handlers check. */
  private RobotState authenticatedRobot(Principal p, long id) {
    if (!p.authenticated()) {
      throw new HarborError(401, "UNAUTHORIZED", "unauthorized");
    }
    RobotState r = robotsById.get(id);
    if (r == null) {
      throw new HarborError(404, "NOT_FOUND", "robot " + id + " not found");
    }
    return r;
  }

  // ---------------------------------------------------------------------------------------------
  // validation (robot.go validate / toScope)

  /** Harbor 2.11+: -1 or 1..2^31-2; before: also 0 (the system default). */
  private static void checkDuration(long duration, Version v) {
    boolean valid =
        v.before(2, 11)
            ? duration >= -1 && duration < Integer.MAX_VALUE
            : isValidDuration(duration);
    if (!valid) {
      throw badRequest(
          "bad request error duration input: "
              + duration
              + ", duration must be either -1(Never) or a positive integer");
    }
  }

  /** The level and permission checks; the allowlist of pairs only from Harbor 2.10 on. */
  private static void validate(String level, List<PermissionIn> permissions, Version v) {
    if (!"system".equals(level) && !"project".equals(level)) {
      throw badRequest("bad request error level input: " + emptyIfNull(level));
    }
    if (permissions == null || permissions.isEmpty()) {
      throw badRequest("bad request empty permission");
    }
    for (PermissionIn perm : permissions) {
      if (perm == null) {
        throw badRequest("bad request empty permission");
      }
    }
    for (PermissionIn perm : permissions) {
      if (perm.access() == null || perm.access().isEmpty() || perm.access().contains(null)) {
        throw badRequest("bad request empty access");
      }
    }
    if (level.equals("project") && permissions.size() > 1) {
      throw badRequest("bad request permission");
    }
    for (PermissionIn perm : permissions) {
      String kind = emptyIfNull(perm.kind());
      Set<String> allowed;
      if (kind.equals("system")) {
        allowed = SYSTEM_ALLOWED;
      } else if (kind.equals("project")) {
        allowed = PROJECT_ALLOWED;
      } else {
        throw badRequest("bad request permission level: " + kind);
      }
      if (v.before(2, 10)) {
        continue; // before 2.10 any resource:action string was stored
      }
      for (AccessIn a : perm.access()) {
        String resource = emptyIfNull(a.resource());
        String action = emptyIfNull(a.action());
        if (!allowed.contains(resource + ":" + action)) {
          throw badRequest("bad request permission: " + resource + ":" + action);
        }
      }
    }
  }

  private static boolean isValidDuration(long d) {
    return d == -1 || (d > 0 && d < Integer.MAX_VALUE);
  }

  private static boolean isValidSecret(String secret) {
    int bytes = secret.getBytes(StandardCharsets.UTF_8).length;
    return bytes >= 8
        && bytes <= 128
        && secret.chars().anyMatch(c -> c >= 'a' && c <= 'z')
        && secret.chars().anyMatch(c -> c >= 'A' && c <= 'Z')
        && secret.chars().anyMatch(c -> c >= '0' && c <= '9');
  }

  /** Caller holds {@code lock}. The permission rows: 400 "unknown namespace", 404 project. */
  private List<Scope> toScopes(List<PermissionIn> permissions) {
    Map<String, Scope> scopes = new LinkedHashMap<>();
    for (PermissionIn perm : permissions) {
      String namespace = emptyIfNull(perm.namespace());
      long projectId;
      if (perm.kind().equals("system")) {
        if (!namespace.equals("/")) {
          throw badRequest("unknown namespace");
        }
        projectId = 0;
      } else if (namespace.equals("*")) {
        projectId = ALL_PROJECTS;
      } else {
        Project project = projectsByName.get(namespace);
        if (project == null) {
          throw new HarborError(404, "NOT_FOUND", "project " + namespace + " not found");
        }
        projectId = project.id();
      }
      List<Access> access = new ArrayList<>();
      for (AccessIn a : perm.access()) {
        access.add(new Access(a.resource(), a.action(), emptyIfNull(a.effect())));
      }
      scopes.merge(
          perm.kind() + ":" + projectId,
          new Scope(perm.kind(), projectId, access),
          (x, y) -> {
            List<Access> merged = new ArrayList<>(x.access());
            merged.addAll(y.access());
            return new Scope(x.kind(), x.projectId(), merged);
          });
    }
    List<Scope> result = new ArrayList<>();
    for (Scope s : scopes.values()) {
      result.add(new Scope(s.kind(), s.projectId(), List.copyOf(new LinkedHashSet<>(s.access()))));
    }
    return List.copyOf(result);
  }

  /**
   * Caller holds {@code lock}. A robot may only create robots whose permissions are a subset of its
   * own (same kind:namespace or its kind:"*"; resource:action:effect compared exactly).
   */
  private void checkCreatorScope(List<PermissionIn> creating, RobotState creator) {
    Map<String, Set<String>> creatorMap = new HashMap<>();
    for (Scope scope : creator.scopes) {
      String namespace = namespaceOf(scope);
      if (namespace == null) {
        continue;
      }
      Set<String> policies =
          creatorMap.computeIfAbsent(scope.kind() + ":" + namespace, k -> new HashSet<>());
      scope.access().forEach(a -> policies.add(a.resource() + ":" + a.action() + ":" + a.effect()));
    }
    for (PermissionIn perm : creating) {
      Set<String> policies = creatorMap.get(perm.kind() + ":" + emptyIfNull(perm.namespace()));
      if (policies == null) {
        policies = creatorMap.get(perm.kind() + ":*");
      }
      boolean ok = policies != null;
      if (ok) {
        for (AccessIn a : perm.access()) {
          String key = a.resource() + ":" + a.action() + ":" + emptyIfNull(a.effect());
          ok &= policies.contains(key);
        }
      }
      if (!ok) {
        throw new HarborError(
            403,
            "DENIED",
            "permission scope is invalid. It must be equal to or more restrictive than the"
                + " creator robot's permissions: "
                + prefix
                + creator.storedName);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // list: q, sort, Link

  private static String lastValue(Map<String, List<String>> params, String name) {
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? "" : values.get(values.size() - 1);
  }

  private static long int64Param(
      Map<String, List<String>> params, String name, long defaultValue, List<String> errors) {
    String raw = lastValue(params, name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    Long value = parseLongOrNull(raw);
    if (value == null) {
      errors.add(name + " in query must be of type int64: \"" + raw + "\"");
      return defaultValue;
    }
    return value;
  }

  /** Harbor's q.Build: the already decoded {@code q} is URL-unescaped once more. */
  private static Map<String, Object> parseKeywords(String q) {
    Map<String, Object> keywords = new LinkedHashMap<>();
    if (q.isEmpty()) {
      return keywords;
    }
    String unescaped = GoUrl.queryUnescape(q);
    if (unescaped != null) {
      q = unescaped;
    }
    for (String param : q.split(",", -1)) {
      int eq = param.indexOf('=');
      if (eq <= 0 || eq == param.length() - 1) {
        throw badRequest("the query string must contain \"=\" and the key/value cannot be empty");
      }
      String value = param.substring(eq + 1);
      keywords.put(param.substring(0, eq), parsePattern(value));
    }
    return keywords;
  }

  private static Object parsePattern(String value) {
    char first = value.charAt(0);
    int length = value.length();
    switch (first) {
      case '~':
        if (length < 2) {
          throw badRequest("invalid query string value: " + value);
        }
        return new Fuzzy(value.substring(1));
      case '[':
        {
          if (value.charAt(length - 1) != ']' || value.chars().filter(c -> c == '~').count() != 1) {
            throw badRequest("invalid query string value: " + value);
          }
          String inner = value.substring(1, length - 1);
          int tilde = inner.indexOf('~');
          String min = inner.substring(0, tilde).trim();
          String max = inner.substring(tilde + 1).trim();
          if (min.isEmpty() && max.isEmpty()) {
            throw badRequest("invalid query string value: " + value);
          }
          return new Range(
              min.isEmpty() ? null : parseValue(min), max.isEmpty() ? null : parseValue(max));
        }
      case '{':
      case '(':
        {
          char close = first == '{' ? '}' : ')';
          if (value.charAt(length - 1) != close || length < 2) {
            throw badRequest("invalid query string value: " + value);
          }
          List<Object> values = new ArrayList<>();
          for (String s : value.substring(1, length - 1).split(" ", -1)) {
            Object v = parseValue(s);
            if (!(v instanceof String str && str.isEmpty())) {
              values.add(v);
            }
          }
          return first == '{' ? new OrList(values) : new AndList(values);
        }
      default:
        return value.charAt(0) == '\\' ? value.substring(1) : value;
    }
  }

  private static Object parseValue(String value) {
    String v = value.trim();
    try {
      return LocalDateTime.parse(v, Q_TIME_FORMAT).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // not a time
    }
    Long l = parseLongOrNull(v);
    if (l != null) {
      return l;
    }
    int from = 0;
    int to = v.length();
    while (from < to && (v.charAt(from) == '"' || v.charAt(from) == '\'')) {
      from++;
    }
    while (to > from && (v.charAt(to - 1) == '"' || v.charAt(to - 1) == '\'')) {
      to--;
    }
    return v.substring(from, to);
  }

  /** Caller holds {@code lock}. */
  private boolean matchesKeywords(RobotState r, Map<String, Object> keywords) {
    for (Map.Entry<String, Object> e : keywords.entrySet()) {
      String column = COLUMNS.get(e.getKey());
      if (column == null) {
        continue; // unknown keys are silently ignored
      }
      Object actual = column(r, column);
      Object wanted = e.getValue();
      boolean ok;
      if (wanted instanceof String s) {
        ok = sqlEquals(actual, s);
      } else if (wanted instanceof Fuzzy f) {
        if (!(actual instanceof String text)) {
          throw sqlError();
        }
        ok = text.toLowerCase(Locale.ROOT).contains(f.value().toLowerCase(Locale.ROOT));
      } else if (wanted instanceof Range range) {
        ok =
            (range.min() == null || sqlCompare(actual, range.min()) >= 0)
                && (range.max() == null || sqlCompare(actual, range.max()) <= 0);
      } else if (wanted instanceof OrList or) {
        ok = or.values().isEmpty();
        for (Object v : or.values()) {
          ok |= sqlCompare(actual, v) == 0;
        }
      } else {
        ok = true;
        for (Object v : ((AndList) wanted).values()) {
          ok &= sqlCompare(actual, v) == 0;
        }
      }
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private Object column(RobotState r, String column) {
    return switch (column) {
      case "id" -> r.id;
      case "name" -> r.storedName;
      case "description" -> r.description;
      case "project_id" -> r.projectId;
      case "disabled" -> r.disabled;
      case "duration" -> r.duration;
      case "expires_at" -> r.expiresAt;
      case "creator_type" -> r.creatorType;
      case "creator_ref" -> r.creatorRef;
      case "visible" -> true;
      case "creation_time" -> r.creationTime;
      case "update_time" -> r.updateTime;
      default -> throw new IllegalStateException(column);
    };
  }

  /** Exact match of a string from q against a column, as Postgres would cast it. */
  private static boolean sqlEquals(Object actual, String wanted) {
    if (actual instanceof String s) {
      return s.equals(wanted);
    }
    if (actual instanceof Long l) {
      Long w = parseLongOrNull(wanted.trim());
      if (w == null) {
        throw sqlError();
      }
      return l.equals(w);
    }
    if (actual instanceof Boolean b) {
      String w = wanted.trim().toLowerCase(Locale.ROOT);
      if (List.of("true", "t", "yes", "y", "on", "1").contains(w)) {
        return b;
      }
      if (List.of("false", "f", "no", "n", "off", "0").contains(w)) {
        return !b;
      }
      throw sqlError();
    }
    Object time = parseValue(wanted);
    if (!(time instanceof Instant)) {
      throw sqlError();
    }
    return actual.equals(time);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int sqlCompare(Object actual, Object wanted) {
    if (actual instanceof Boolean || wanted == null) {
      throw sqlError();
    }
    if (actual instanceof Long && wanted instanceof Long
        || actual instanceof String && wanted instanceof String
        || actual instanceof Instant && wanted instanceof Instant) {
      return ((Comparable) actual).compareTo(wanted);
    }
    if (actual instanceof String s) {
      return s.compareTo(String.valueOf(wanted));
    }
    throw sqlError();
  }

  private static HarborError sqlError() {
    return new HarborError(500, "UNKNOWN", "internal server error");
  }

  private static List<Sort> parseSorts(String sort) {
    List<Sort> sorts = new ArrayList<>();
    if (sort.isEmpty()) {
      return sorts;
    }
    for (String s : sort.split(",", -1)) {
      boolean desc = s.startsWith("-");
      String column = COLUMNS.get(desc ? s.substring(1) : s);
      if (column != null) {
        sorts.add(new Sort(column, desc));
      }
    }
    return sorts;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private Comparator<RobotState> comparator(List<Sort> sorts) {
    List<Sort> effective = sorts.isEmpty() ? List.of(new Sort("name", false)) : sorts;
    Comparator<RobotState> result = null;
    for (Sort s : effective) {
      Comparator<RobotState> c =
          (a, b) -> ((Comparable) column(a, s.column())).compareTo(column(b, s.column()));
      if (s.desc()) {
        c = c.reversed();
      }
      result = result == null ? c : result.thenComparing(c);
    }
    return result.thenComparingLong(r -> r.id);
  }

  /**
   * Harbor's BaseAPI.Links, including its quirks: query keys sorted, the encoded query
   * URL-unescaped again, and the "next" link built from the already unescaped "prev" query.
   */
  private static String links(
      String rawPath, String rawQuery, long total, long page, long pageSize) {
    if (pageSize == 0) {
      return "";
    }
    List<String> links = new ArrayList<>();
    String query = rawQuery;
    if (page > 1 && safeMultiply(page - 1, pageSize) < total) {
      query = pageQuery(query, page - 1, pageSize);
      links.add("<" + rawPath + "?" + query + ">; rel=\"prev\"");
    }
    if (safeMultiply(pageSize, page) < total) {
      query = pageQuery(query, page + 1, pageSize);
      links.add("<" + rawPath + "?" + query + ">; rel=\"next\"");
    }
    return String.join(" , ", links);
  }

  private static String pageQuery(String rawQuery, long page, long pageSize) {
    Map<String, List<String>> values = new TreeMap<>(GoUrl.parseQuery(rawQuery));
    values.put("page", List.of(Long.toString(page)));
    values.put("page_size", List.of(Long.toString(pageSize)));
    String encoded = GoUrl.encode(values);
    String unescaped = GoUrl.queryUnescape(encoded);
    return unescaped == null ? encoded : unescaped;
  }

  private static long safeMultiply(long a, long b) {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      return (a < 0) == (b < 0) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // request binding (go-swagger): 422 for a missing/malformed body, wrong JSON types, bad ids

  private static long bindRobotId(String text, List<String> earlierErrors) {
    Long id = parseLongOrNull(text);
    if (id == null) {
      List<String> errors = new ArrayList<>(earlierErrors);
      errors.add("robot_id in path must be of type int64: \"" + text + "\"");
      throw unprocessable(errors);
    }
    return id;
  }

  private ObjectNode readBody(byte[] body, String param, String goType, List<String> errors) {
    List<String> all = new ArrayList<>(errors);
    if (body.length == 0) {
      all.add(param + " in body is required");
      throw unprocessable(all);
    }
    JsonNode node;
    try {
      node = json.readTree(body);
    } catch (JsonProcessingException e) {
      all.add(parseFailure(param, "invalid JSON: " + e.getOriginalMessage()));
      throw unprocessable(all);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (node == null || node.isMissingNode()) {
      all.add(param + " in body is required");
      throw unprocessable(all);
    }
    if (node.isNull()) {
      node = json.createObjectNode();
    }
    if (!node.isObject()) {
      all.add(
          parseFailure(
              param,
              "json: cannot unmarshal "
                  + jsonKind(node)
                  + " into Go value of type models."
                  + goType));
      throw unprocessable(all);
    }
    if (!errors.isEmpty()) {
      throw unprocessable(errors);
    }
    return (ObjectNode) node;
  }

  private static String parseFailure(String param, String reason) {
    return "parsing " + param + " body from \"\" failed, because " + reason;
  }

  private RobotIn bindRobot(byte[] body, String param, String goType, List<String> errors) {
    ObjectNode obj = readBody(body, param, goType, errors);
    GoJson go = new GoJson();
    String name = go.string(obj, "name", goType);
    String description = go.string(obj, "description", goType);
    go.string(obj, "secret", goType);
    String level = go.string(obj, "level", goType);
    Boolean disable = go.bool(obj, "disable", goType);
    Long duration = go.int64(obj, "duration", goType);
    if (goType.equals("Robot")) {
      go.int64(obj, "id", goType);
      go.bool(obj, "editable", goType);
      go.int64(obj, "expires_at", goType);
      go.string(obj, "creator_type", goType);
      go.int64(obj, "creator_ref", goType);
      go.dateTime(obj, "creation_time", goType);
      go.dateTime(obj, "update_time", goType);
    }
    List<PermissionIn> permissions = null;
    List<JsonNode> permNodes = go.array(obj, "permissions", goType);
    if (permNodes != null) {
      permissions = new ArrayList<>();
      for (JsonNode p : permNodes) {
        if (p == null || p.isNull()) {
          permissions.add(null);
          continue;
        }
        if (!p.isObject()) {
          go.typeError(p, goType + ".permissions", "models.RobotPermission");
          continue;
        }
        String path = goType + ".permissions";
        String kind = go.string(p, "kind", path);
        String namespace = go.string(p, "namespace", path);
        List<AccessIn> access = null;
        List<JsonNode> accessNodes = go.array(p, "access", path);
        if (accessNodes != null) {
          access = new ArrayList<>();
          for (JsonNode a : accessNodes) {
            if (a == null || a.isNull()) {
              access.add(null);
              continue;
            }
            if (!a.isObject()) {
              go.typeError(a, path + ".access", "models.Access");
              continue;
            }
            String accessPath = path + ".access";
            access.add(
                new AccessIn(
                    go.string(a, "resource", accessPath),
                    go.string(a, "action", accessPath),
                    go.string(a, "effect", accessPath)));
          }
        }
        permissions.add(new PermissionIn(kind, namespace, access));
      }
    }
    if (go.firstError != null) {
      throw unprocessable(List.of(parseFailure(param, go.firstError)));
    }
    return new RobotIn(
        name, description, level, duration, Boolean.TRUE.equals(disable), permissions);
  }

  private String bindSecret(byte[] body, List<String> errors) {
    ObjectNode obj = readBody(body, "robotSec", "RobotSec", errors);
    GoJson go = new GoJson();
    String secret = go.string(obj, "secret", "RobotSec");
    if (go.firstError != null) {
      throw unprocessable(List.of(parseFailure("robotSec", go.firstError)));
    }
    return emptyIfNull(secret);
  }

  /** Go's encoding/json rules: keys match case-insensitively, the last one wins, null is zero. */
  private static final class GoJson {
    String firstError;

    JsonNode field(JsonNode obj, String name) {
      JsonNode found = null;
      for (Map.Entry<String, JsonNode> e : obj.properties()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          found = e.getValue();
        }
      }
      return found == null || found.isNull() ? null : found;
    }

    String string(JsonNode obj, String name, String path) {
      JsonNode v = field(obj, name);
      if (v == null) {
        return null;
      }
      if (!v.isTextual()) {
        typeError(v, path + "." + name, "string");
        return null;
      }
      return v.textValue();
    }

    Long int64(JsonNode obj, String name, String path) {
      JsonNode v = field(obj, name);
      if (v == null) {
        return null;
      }
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        typeError(v, path + "." + name, "int64");
        return null;
      }
      return v.longValue();
    }

    Boolean bool(JsonNode obj, String name, String path) {
      JsonNode v = field(obj, name);
      if (v == null) {
        return null;
      }
      if (!v.isBoolean()) {
        typeError(v, path + "." + name, "bool");
        return null;
      }
      return v.booleanValue();
    }

    void dateTime(JsonNode obj, String name, String path) {
      JsonNode v = field(obj, name);
      if (v == null) {
        return;
      }
      if (!v.isTextual()) {
        typeError(v, path + "." + name, "strfmt.DateTime");
        return;
      }
      String text = v.textValue();
      if (text.isEmpty()) {
        return;
      }
      try {
        OffsetDateTime.parse(text);
      } catch (DateTimeParseException e) {
        try {
          LocalDateTime.parse(text);
        } catch (DateTimeParseException e2) {
          if (firstError == null) {
            firstError = "parsing time \"" + text + "\": not a date-time";
          }
        }
      }
    }

    List<JsonNode> array(JsonNode obj, String name, String path) {
      JsonNode v = field(obj, name);
      if (v == null) {
        return null;
      }
      if (!v.isArray()) {
        typeError(v, path + "." + name, "[]*models.*");
        return null;
      }
      List<JsonNode> items = new ArrayList<>();
      v.forEach(items::add);
      return items;
    }

    void typeError(JsonNode v, String field, String goType) {
      if (firstError == null) {
        firstError =
            "json: cannot unmarshal "
                + jsonKind(v)
                + " into Go struct field "
                + field
                + " of type "
                + goType;
      }
    }
  }

  private static String jsonKind(JsonNode v) {
    if (v.isTextual()) {
      return "string";
    }
    if (v.isNumber()) {
      return "number";
    }
    if (v.isBoolean()) {
      return "bool";
    }
    if (v.isArray()) {
      return "array";
    }
    return "object";
  }

  // ---------------------------------------------------------------------------------------------
  // state helpers

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private static long expiryFrom(Instant from, long durationDays) {
    return durationDays == NEVER ? NEVER : from.getEpochSecond() + durationDays * SECONDS_PER_DAY;
  }

  /** Caller holds {@code lock}. */
  private RobotState requireRobot(long id) {
    RobotState r = robotsById.get(id);
    if (r == null) {
      throw new NoSuchElementException("robot " + id + " not found");
    }
    return r;
  }

  /** Caller holds {@code lock}. */
  private void addRobot(RobotState r) {
    robotsById.put(r.id, r);
    robotsByStoredName.put(r.storedName, r);
  }

  /** Caller holds {@code lock}. */
  private void removeRobot(RobotState r) {
    robotsById.remove(r.id);
    robotsByStoredName.remove(r.storedName, r);
  }

  /** Caller holds {@code lock}. The namespace a scope shows, or null when its project is gone. */
  private String namespaceOf(Scope scope) {
    if (scope.kind().equals("system")) {
      return "/";
    }
    if (scope.projectId() == ALL_PROJECTS) {
      return "*";
    }
    Project p = projectsById.get(scope.projectId());
    return p == null ? null : p.name();
  }

  /** Caller holds {@code lock}. */
  private EmulatedRobot snapshot(RobotState r) {
    Set<String> pairs = new TreeSet<>();
    for (Scope scope : r.scopes) {
      if (namespaceOf(scope) != null) {
        scope.access().forEach(a -> pairs.add(a.resource() + ":" + a.action()));
      }
    }
    String project = null;
    if (r.projectId != 0) {
      Project p = projectsById.get(r.projectId);
      project = p != null ? p.name() : r.storedName.substring(0, r.storedName.indexOf('+'));
    }
    return new EmulatedRobot(
        r.id,
        project,
        r.storedName,
        prefix + r.storedName,
        r.description,
        r.projectId == 0 ? "system" : "project",
        r.duration,
        r.expiresAt,
        r.disabled,
        Collections.unmodifiableSet(pairs),
        r.creationTime,
        r.updateTime);
  }

  /** Caller holds {@code lock}. A Robot as GET returns it: permission order random every time. */
  private ObjectNode robotJson(RobotState r) {
    ObjectNode n = json.createObjectNode();
    n.put("creation_time", TIME_FORMAT.format(r.creationTime));
    if (r.creatorRef != 0) {
      n.put("creator_ref", r.creatorRef);
    }
    n.put("creator_type", r.creatorType);
    if (!r.description.isEmpty()) {
      n.put("description", r.description);
    }
    n.put("disable", r.disabled);
    n.put("duration", r.duration);
    n.put("editable", true);
    if (r.expiresAt != 0) {
      n.put("expires_at", r.expiresAt);
    }
    n.put("id", r.id);
    n.put("level", r.projectId == 0 ? "system" : "project");
    n.put("name", prefix + r.storedName);
    List<ObjectNode> permissions = new ArrayList<>();
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (Scope scope : r.scopes) {
      String namespace = namespaceOf(scope);
      if (namespace == null) {
        continue; // scopes of deleted projects are dropped silently
      }
      List<Access> access = new ArrayList<>(scope.access());
      Collections.shuffle(access, rnd);
      ObjectNode p = json.createObjectNode();
      ArrayNode accessArray = p.putArray("access");
      for (Access a : access) {
        ObjectNode an = accessArray.addObject();
        an.put("action", a.action());
        if (!a.effect().isEmpty()) {
          an.put("effect", a.effect());
        }
        an.put("resource", a.resource());
      }
      p.put("kind", scope.kind());
      p.put("namespace", namespace);
      permissions.add(p);
    }
    Collections.shuffle(permissions, rnd);
    if (!permissions.isEmpty()) {
      n.putArray("permissions").addAll(permissions);
    }
    n.put("update_time", TIME_FORMAT.format(r.updateTime));
    return n;
  }

  private static List<Access> accessFromPairs(Set<String> permissions) {
    if (permissions == null || permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    List<Access> access = new ArrayList<>();
    for (String pair : new TreeSet<>(permissions)) {
      int colon = pair.indexOf(':');
      if (colon <= 0 || colon == pair.length() - 1) {
        throw new IllegalArgumentException("not a resource:action pair: " + pair);
      }
      access.add(new Access(pair.substring(0, colon), pair.substring(colon + 1), ""));
    }
    return List.copyOf(access);
  }

  private String generateSecret() {
    while (true) {
      char[] chars = new char[32];
      for (int i = 0; i < chars.length; i++) {
        chars[i] = ALNUM.charAt(random.nextInt(ALNUM.length()));
      }
      String s = new String(chars);
      if (s.chars().anyMatch(Character::isLowerCase)
          && s.chars().anyMatch(Character::isUpperCase)
          && s.chars().anyMatch(Character::isDigit)) {
        ISSUED_SECRETS.add(s);
        return s;
      }
    }
  }

  private byte[] newSalt() {
    byte[] salt = new byte[16];
    random.nextBytes(salt);
    return salt;
  }

  private static byte[] hash(byte[] salt, String secret) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(salt);
      md.update(secret.getBytes(StandardCharsets.UTF_8));
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean matches(byte[] salt, byte[] expected, String secret) {
    return MessageDigest.isEqual(expected, hash(salt, secret));
  }

  private static void pause(Duration d) {
    if (d.isZero() || d.isNegative()) {
      return;
    }
    try {
      Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Long parseLongOrNull(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String emptyIfNull(String s) {
    return s == null ? "" : s;
  }

  private static String stripTrailingSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** Go's url.PathUnescape; null for a malformed escape. */
  private static String pathUnescape(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    return GoUrl.unescape(s, false);
  }

  // ---------------------------------------------------------------------------------------------
  // responses

  private Response ok(JsonNode node) {
    return json(200, node);
  }

  private Response json(int status, JsonNode node) {
    try {
      byte[] bytes = json.writeValueAsBytes(node);
      byte[] withNewline = new byte[bytes.length + 1];
      System.arraycopy(bytes, 0, withNewline, 0, bytes.length);
      withNewline[bytes.length] = '\n';
      return new Response(status, Map.of(), withNewline, "application/json");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Response errorResponse(int status, String code, String message) {
    String body =
        "{\"errors\":[{\"code\":"
            + quote(code)
            + ",\"message\":"
            + quote(status >= 500 ? "internal server error" : message)
            + "}]}\n";
    return new Response(
        status, Map.of(), body.getBytes(StandardCharsets.UTF_8), "application/json; charset=utf-8");
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static HarborError badRequest(String message) {
    return new HarborError(400, "BAD_REQUEST", message);
  }

  private static HarborError unprocessable(List<String> errors) {
    return new HarborError(
        422, "UNPROCESSABLE_ENTITY", "validation failure list:\n" + String.join("\n", errors));
  }

  // ---------------------------------------------------------------------------------------------
  // types

  private record Project(long id, String name, Instant creationTime) {}

  private record Access(String resource, String action, String effect) {}

  /** kind "system" (projectId 0) or "project" (a project id or {@link #ALL_PROJECTS}). */
  private record Scope(String kind, long projectId, List<Access> access) {}

  /** A queued fault; {@code remaining} is guarded by the emulator's lock. */
  private static final class Fault {
    final String method;
    final Pattern path;
    final int status;
    final boolean lose;
    final long retryAfterSeconds;
    int remaining;

    Fault(
        String method,
        Pattern path,
        int status,
        boolean lose,
        long retryAfterSeconds,
        int remaining) {
      this.method = method;
      this.path = path;
      this.status = status;
      this.lose = lose;
      this.retryAfterSeconds = retryAfterSeconds;
      this.remaining = remaining;
    }
  }

  private record ErrorRate(double rate, int status, long retryAfterSeconds) {
    static final ErrorRate OFF = new ErrorRate(0, 500, -1);
  }

  private record LatencySpikes(double rate, Duration latency) {
    static final LatencySpikes OFF = new LatencySpikes(0, Duration.ZERO);
  }

  private record LoggedRequest(Instant at, String line) {}

  /** A Harbor release, {@code major.minor.patch}. */
  private record Version(int major, int minor, int patch) {
    boolean before(int major, int minor) {
      return this.major < major || this.major == major && this.minor < minor;
    }

    @Override
    public String toString() {
      return "v" + major + "." + minor + "." + patch;
    }
  }

  private record Sort(String column, boolean desc) {}

  private record Fuzzy(String value) {}

  private record Range(Object min, Object max) {}

  private record OrList(List<Object> values) {}

  private record AndList(List<Object> values) {}

  private record AccessIn(String resource, String action, String effect) {}

  private record PermissionIn(String kind, String namespace, List<AccessIn> access) {}

  private record RobotIn(
      String name,
      String description,
      String level,
      Long duration,
      boolean disable,
      List<PermissionIn> permissions) {}

  private record Request(
      String method,
      String rawPath,
      String rawQuery,
      Headers headers,
      byte[] body,
      Principal principal) {}

  private record Principal(String username, boolean admin, RobotState robot, boolean basicGiven) {
    static final Principal ANONYMOUS = new Principal(null, false, null, false);
    static final Principal ANONYMOUS_WITH_BASIC = new Principal(null, false, null, true);

    boolean authenticated() {
      return admin || robot != null;
    }
  }

  private record Response(
      int status, Map<String, String> headers, byte[] body, String contentType) {
    Response with(String header, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(header, value);
      return new Response(status, h, body, contentType);
    }
  }

  /** A robot row; mutable fields are guarded by the emulator's lock. */
  private static final class RobotState {
    final long id;
    final long projectId;
    final String storedName;
    final byte[] salt;
    final Instant creationTime;
    final String creatorType;
    final long creatorRef;
    byte[] secretHash;
    String description = "";
    long duration;
    long expiresAt;
    boolean disabled;
    List<Scope> scopes = List.of();
    Instant updateTime;

    RobotState(
        long id,
        long projectId,
        String storedName,
        byte[] salt,
        Instant creationTime,
        String creatorType,
        long creatorRef) {
      this.id = id;
      this.projectId = projectId;
      this.storedName = storedName;
      this.salt = salt;
      this.creationTime = creationTime;
      this.updateTime = creationTime;
      this.creatorType = creatorType;
      this.creatorRef = creatorRef;
    }
  }

  /** An error answered with Harbor's error body. */
  private static final class HarborError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

    HarborError(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }

    HarborError withHeader(String name, String value) {
      headers.put(name, value);
      return this;
    }

    Response response() {
      Response r = errorResponse(status, code, getMessage());
      for (Map.Entry<String, String> e : headers.entrySet()) {
        r = r.with(e.getKey(), e.getValue());
      }
      return r;
    }
  }

  /** Go's net/url query escaping rules, which Harbor's q and Link handling depend on. */
  static final class GoUrl {
    private GoUrl() {}

    /** url.QueryUnescape: {@code +} is a space; null for a malformed escape. */
    static String queryUnescape(String s) {
      return unescape(s, true);
    }

    static String unescape(String s, boolean plusIsSpace) {
      byte[] in = s.getBytes(StandardCharsets.UTF_8);
      ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
      for (int i = 0; i < in.length; i++) {
        byte b = in[i];
        if (b == '%') {
          if (i + 2 >= in.length) {
            return null;
          }
          int hi = Character.digit(in[i + 1], 16);
          int lo = Character.digit(in[i + 2], 16);
          if (hi < 0 || lo < 0) {
            return null;
          }
          out.write(hi << 4 | lo);
          i += 2;
        } else if (b == '+' && plusIsSpace) {
          out.write(' ');
        } else {
          out.write(b);
        }
      }
      return out.toString(StandardCharsets.UTF_8);
    }

    /** url.QueryEscape. */
    static String queryEscape(String s) {
      StringBuilder b = new StringBuilder();
      for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
        int c = x & 0xff;
        if (c >= 'a' && c <= 'z'
            || c >= 'A' && c <= 'Z'
            || c >= '0' && c <= '9'
            || c == '-'
            || c == '_'
            || c == '.'
            || c == '~') {
          b.append((char) c);
        } else if (c == ' ') {
          b.append('+');
        } else {
          b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
          b.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
        }
      }
      return b.toString();
    }

    /** url.ParseQuery, dropping malformed pairs as {@code r.URL.Query()} does. */
    static Map<String, List<String>> parseQuery(String rawQuery) {
      Map<String, List<String>> values = new LinkedHashMap<>();
      if (rawQuery == null || rawQuery.isEmpty()) {
        return values;
      }
      for (String pair : rawQuery.split("&", -1)) {
        if (pair.contains(";") || pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = queryUnescape(eq < 0 ? pair : pair.substring(0, eq));
        String value = queryUnescape(eq < 0 ? "" : pair.substring(eq + 1));
        if (key == null || value == null) {
          continue;
        }
        values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
      }
      return values;
    }

    /** url.Values.Encode: keys sorted, keys and values query-escaped. */
    static String encode(Map<String, List<String>> values) {
      StringBuilder b = new StringBuilder();
      for (Map.Entry<String, List<String>> e : new TreeMap<>(values).entrySet()) {
        for (String v : e.getValue()) {
          if (b.length() > 0) {
            b.append('&');
          }
          b.append(queryEscape(e.getKey())).append('=').append(queryEscape(v));
        }
      }
      return b.toString();
    }
  }
}
