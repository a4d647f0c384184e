package io.harborrobot.operator.harbor;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A {@link HarborClient} that answers {@link #getProjectRobot} from a listing of the project taken
 * less than {@code freshFor} ago: the reconciles of a project's robots that run together (the
 * operator schedules a project's resyncs at the same moments) then cost one paginated list instead
 * of a GET per robot. A project whose listing takes more pages than the robots read from it (a
 * project of many robots made by other means) is read by id instead.
 *
 * <p>A listing is only a shortcut for reading a robot that is there: a robot it does not hold (new
 * since, deleted, or of another project) is read with GET by id, and every change this client makes
 * to a robot removes that robot from the listings, so that the operator reads back its own writes.
 * What someone else changes in Harbor is seen once the listing is older than {@code freshFor}, at
 * the next resync. Everything else goes straight to the delegate.
 */
public final class ListingHarborClient implements HarborClient {

  private final HarborClient delegate;
  private final Listings listings;
  private final String harbor;

  /**
   * @param delegate the client that talks to Harbor
   * @param listings where listings are kept: shared by the clients of all connections, so that a
   *     client made anew for the same Harbor (a session renewed) finds them
   * @param harbor which Harbor {@code delegate} talks to, e.g. its connection and URL: clients of
   *     the same Harbor share listings
   */
  public ListingHarborClient(HarborClient delegate, Listings listings, String harbor) {
    this.delegate = delegate;
    this.listings = listings;
    this.harbor = harbor;
  }

  @Override
  public Optional<Robot> getProjectRobot(String projectName, long id) {
    if (!listings.listedFor(harbor, projectName, id)) {
      return delegate.getRobot(id);
    }
    Robot listed = listings.listing(harbor, projectName, delegate).robots().get(id);
    return listed != null ? Optional.of(listed) : delegate.getRobot(id);
  }

  /** The listings of every Harbor's projects, each fresh for a while. */
  public static final class Listings {

    private final Clock clock;
    private final Duration freshFor;
    private final Map<String, Listing> byProject = new ConcurrentHashMap<>();
    private final Map<String, Project> projects = new ConcurrentHashMap<>();
    private final Map<String, Lookup> lookups = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /**
     * Writes are numbered; a listing remembers the number current when its request went out, and
     * leaves out the robots written since: its response may show them as they were before.
     */
    private final AtomicLong writes = new AtomicLong();

    private final Map<Long, Long> lastWriteOf = new ConcurrentHashMap<>();
    private final Map<String, Long> listingsUnderWay = new ConcurrentHashMap<>();

    /** A project's robots by id, as listed at {@code takenAt}. */
    private record Listing(Instant takenAt, Map<Long, Robot> robots) {}

    /** A project found at {@code at}. */
    private record Lookup(Instant at, Project project) {}

    /**
     * The robots of a project read in the {@code freshFor} from {@code since}, whether a listing
     * answers them, and how many pages the project's last listing took.
     */
    private record Round(Instant since, boolean listed, int pages, Set<Long> read) {}

    private final Map<String, Round> rounds = new ConcurrentHashMap<>();

    public Listings(Clock clock, Duration freshFor) {
      this.clock = clock;
      this.freshFor = freshFor;
    }

    /**
     * Records the read of robot {@code id} and says whether a listing of its project answers it. A
     * listing pays off when the project's robots read at one resync are at least as many as its
     * pages: a project of a thousand robots of which the operator manages two costs two GETs, not
     * ten pages. What the last round read decides for the next one, so a project whose managed
     * robots grow past its pages is listed again.
     */
    private boolean listedFor(String harbor, String projectName, long id) {
      String key = harbor + " " + projectName;
      Instant now = clock.instant();
      Round round =
          rounds.compute(
              key,
              (k, last) -> {
                if (last != null && last.since().plus(freshFor).isAfter(now)) {
                  return last;
                }
                boolean list = last == null || last.read().size() >= last.pages();
                return new Round(
                    now, list, last == null ? 1 : last.pages(), ConcurrentHashMap.newKeySet());
              });
      round.read().add(id);
      return round.listed() || isFresh(byProject.get(key));
    }

    /**
     * The project's listing, taken now when there is none fresh. One caller lists while the others
     * of the same project wait for its result; callers for other projects do not wait.
     */
    private Listing listing(String harbor, String projectName, HarborClient client) {
      String key = harbor + " " + projectName;
      Listing current = byProject.get(key);
      if (isFresh(current)) {
        return current;
      }
      synchronized (locks.computeIfAbsent(key, k -> new Object())) {
        current = byProject.get(key);
        if (isFresh(current)) {
          return current;
        }
        Instant takenAt = clock.instant();
        long writesBefore = listingStarts(key);
        try {
          return store(key, takenAt, list(harbor, projectName, client), writesBefore);
        } finally {
          listingEnded(key);
        }
      }
    }

    /** The project's robots as Harbor lists them now. */
    private List<Robot> list(String harbor, String projectName, HarborClient client) {
      String key = harbor + " " + projectName;
      // The project's id is kept while its listings find robots: it changes only when the
      // project is deleted and created again, and the old id then lists nothing.
      Optional<Project> project =
          Optional.ofNullable(projects.get(key)).or(() -> project(harbor, projectName, client));
      List<Robot> listed = project.map(client::listProjectRobots).orElse(List.of());
      if (listed.isEmpty()) {
        projects.remove(key);
      } else {
        projects.put(key, project.get());
      }
      return listed;
    }

    /**
     * Keeps a listing, without the robots written since its request went out. Under the same lock
     * as {@link #forget}: a write that ends meanwhile either is seen here or finds the listing.
     */
    private Listing store(String key, Instant takenAt, List<Robot> listed, long writesBefore) {
      synchronized (lastWriteOf) {
        Listing taken =
            new Listing(
                takenAt,
                listed.stream()
                    .filter(robot -> lastWriteOf.getOrDefault(robot.id(), 0L) <= writesBefore)
                    .collect(
                        Collectors.toUnmodifiableMap(Robot::id, Function.identity(), (a, b) -> b)));
        // Listings nobody read for a while (a connection or its robots gone) go.
        byProject.values().removeIf(listing -> !isFresh(listing));
        byProject.put(key, taken);
        int pageSize = OkHttpHarborClient.PAGE_SIZE;
        int pages = Math.max(1, (listed.size() + pageSize - 1) / pageSize);
        rounds.computeIfPresent(
            key, (k, round) -> new Round(round.since(), round.listed(), pages, round.read()));
        return taken;
      }
    }

    /** A listing's request is about to go out: the number of the last write before it. */
    private long listingStarts(String key) {
      synchronized (lastWriteOf) {
        long writesBefore = writes.get();
        listingsUnderWay.put(key, writesBefore);
        return writesBefore;
      }
    }

    /** Writes no listing under way started before are of no more interest. */
    private void listingEnded(String key) {
      synchronized (lastWriteOf) {
        listingsUnderWay.remove(key);
        long oldest = listingsUnderWay.values().stream().min(Long::compare).orElse(writes.get());
        lastWriteOf.values().removeIf(write -> write <= oldest);
      }
    }

    /**
     * The project, as found less than {@code freshFor} ago or now: the robots of a project created
     * together look it up once. Only projects that exist are remembered.
     */
    private Optional<Project> project(String harbor, String projectName, HarborClient client) {
      String key = harbor + " " + projectName;
      Lookup last = lookups.get(key);
      if (last != null && last.at().plus(freshFor).isAfter(clock.instant())) {
        return Optional.of(last.project());
      }
      synchronized (locks.computeIfAbsent(key, k -> new Object())) {
        last = lookups.get(key);
        Instant now = clock.instant();
        if (last != null && last.at().plus(freshFor).isAfter(now)) {
          return Optional.of(last.project());
        }
        Optional<Project> found = client.findProject(projectName);
        lookups.values().removeIf(lookup -> !lookup.at().plus(freshFor).isAfter(now));
        found.ifPresent(project -> lookups.put(key, new Lookup(now, project)));
        return found;
      }
    }

    private boolean isFresh(Listing listing) {
      return listing != null && listing.takenAt().plus(freshFor).isAfter(clock.instant());
    }

    /**
     * A write to the robot ended: it is taken out of every listing, including those under way, and
     * read from Harbor again.
     */
    private void forget(long id) {
      synchronized (lastWriteOf) {
        lastWriteOf.put(id, writes.incrementAndGet());
        forgetListed(id);
      }
    }

    private void forgetListed(long id) {
      byProject.replaceAll(
          (project, listing) ->
              listing.robots().containsKey(id)
                  ? new Listing(
                      listing.takenAt(),
                      listing.robots().entrySet().stream()
                          .filter(e -> e.getKey() != id)
                          .collect(
                              Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue)))
                  : listing);
    }
  }

  @Override
  public SystemInfo systemInfo() {
    return delegate.systemInfo();
  }

  /** Answered from a lookup of the project made less than {@code freshFor} ago, if any. */
  @Override
  public Optional<Project> findProject(String projectName) {
    return listings.project(harbor, projectName, delegate);
  }

  @Override
  public Optional<Robot> findProjectRobot(Project project, String robotName) {
    return delegate.findProjectRobot(project, robotName);
  }

  @Override
  public Optional<Robot> findSystemRobot(String robotName) {
    return delegate.findSystemRobot(robotName);
  }

  @Override
  public Optional<Robot> getRobot(long id) {
    return delegate.getRobot(id);
  }

  @Override
  public List<Robot> listProjectRobots(Project project) {
    return delegate.listProjectRobots(project);
  }

  @Override
  public RobotCreated createRobot(RobotCreate robot) {
    return delegate.createRobot(robot);
  }

  @Override
  public void updateRobot(Robot robot) {
    try {
      delegate.updateRobot(robot);
    } finally {
      listings.forget(robot.id());
    }
  }

  @Override
  public void setRobotSecret(long robotId, RobotSecret secret) {
    try {
      delegate.setRobotSecret(robotId, secret);
    } finally {
      listings.forget(robotId);
    }
  }

  @Override
  public boolean deleteRobot(long robotId) {
    try {
      return delegate.deleteRobot(robotId);
    } finally {
      listings.forget(robotId);
    }
  }

  @Override
  public boolean registryLoginSucceeds(String username, RobotSecret secret) {
    return delegate.registryLoginSucceeds(username, secret);
  }

  @Override
  public String toString() {
    return "listing " + delegate;
  }
}
