package io.harborrobot.operator.harbor;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.TestClock;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reading the robots of a project through {@link ListingHarborClient}, against the emulator over
 * HTTP: one listing answers them all while it is fresh, and a robot it cannot vouch for is read
 * from Harbor.
 */
class ListingHarborClientTest {

  private static final Duration FRESH_FOR = Duration.ofMinutes(1);
  private static final String LIST = "GET /api/v2.0/robots";
  private static final String GET_BY_ID = "GET /api/v2.0/robots/{id}";

  private final HarborEmulator harbor = HarborEmulator.start();
  private final TestClock clock = TestClock.fixed(Instant.parse("2026-12-02T10:00:00Z"));
  private OkHttpHarborClientFactory factory;
  private ListingHarborClient client;
  private ListingHarborClient.Listings listings;
  private final List<Long> ids = new ArrayList<>();

  @BeforeEach
  void start() {
    factory = new OkHttpHarborClientFactory(ClientSettings.defaults(), new SimpleMeterRegistry());
    listings = new ListingHarborClient.Listings(clock, FRESH_FOR);
    client = newClient();
    harbor.createProject("team");
    // More than one page of 100.
    for (int i = 0; i < 130; i++) {
      ids.add(harbor.createRobotByHand("team", "app-" + i, Set.of("repository:pull"), 30));
    }
    assertThat(harbor.requestCount()).as("robots made by hand, without requests").isZero();
  }

  @AfterEach
  void stop() {
    factory.close();
    harbor.close();
  }

  /** A client as a new session of the connection makes it. */
  private ListingHarborClient newClient() {
    return new ListingHarborClient(
        factory.create(endpoint()), listings, "harbor " + harbor.baseUrl());
  }

  private HarborEndpoint endpoint() {
    return new HarborEndpoint(
        harbor.baseUrl(), "admin", RobotSecret.of("Harbor12345"), null, false);
  }

  private int requests(String route) {
    return harbor.requestCountsByRoute().getOrDefault(route, 0);
  }

  @Test
  void oneListingAnswersEveryRobotOfTheProject() {
    for (long id : ids) {
      assertThat(client.getProjectRobot("team", id)).get().extracting(Robot::id).isEqualTo(id);
    }

    assertThat(requests(GET_BY_ID)).isZero();
    assertThat(requests(LIST)).as("two pages").isEqualTo(2);
    assertThat(requests("GET /api/v2.0/projects/{name}")).isEqualTo(1);
  }

  @Test
  void robotsReadAtTheSameMomentShareOneListing() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Boolean>> reads = new ArrayList<>();
      for (long id : ids) {
        reads.add(() -> client.getProjectRobot("team", id).isPresent());
      }
      for (Future<Boolean> read : threads.invokeAll(reads)) {
        assertThat(read.get()).isTrue();
      }
    } finally {
      threads.shutdownNow();
    }

    assertThat(requests(LIST)).isEqualTo(2);
    assertThat(requests(GET_BY_ID)).isZero();
  }

  @Test
  void aNewClientForTheSameHarborFindsTheListing() {
    client.getProjectRobot("team", ids.get(0));

    assertThat(newClient().getProjectRobot("team", ids.get(1))).isPresent();
    assertThat(requests(LIST)).isEqualTo(2);
    assertThat(requests(GET_BY_ID)).isZero();
  }

  @Test
  void aProjectFoundIsRememberedForAWhileAndAMissingOneIsNot() {
    for (int i = 0; i < 5; i++) {
      assertThat(client.findProject("team")).isPresent();
      assertThat(client.findProject("later")).isEmpty();
    }
    assertThat(requests("GET /api/v2.0/projects/{name}")).isEqualTo(1 + 5);

    harbor.createProject("later");
    assertThat(client.findProject("later")).isPresent();
    clock.advance(FRESH_FOR);
    assertThat(client.findProject("team")).isPresent();
    assertThat(requests("GET /api/v2.0/projects/{name}")).isEqualTo(1 + 5 + 1 + 1);
  }

  @Test
  void aRobotTheListingDoesNotHoldIsReadFromHarbor() {
    client.getProjectRobot("team", ids.get(0));
    long created = harbor.createRobotByHand("team", "newer", Set.of("repository:pull"), 30);
    harbor.deleteRobotByHand(ids.get(1));

    assertThat(client.getProjectRobot("team", created)).isPresent();
    assertThat(client.getProjectRobot("team", 999_999)).isEmpty();
    assertThat(requests(GET_BY_ID)).isEqualTo(2);
    // Deleted by hand after the listing: the listing still vouches for it until it is stale.
    assertThat(client.getProjectRobot("team", ids.get(1))).isPresent();
  }

  @Test
  void whatThisClientChangesIsReadBackFromHarbor() {
    Robot robot = client.getProjectRobot("team", ids.get(0)).orElseThrow();
    Robot edited = robot.withDescription("edited by the operator");

    client.updateRobot(edited);

    assertThat(client.getProjectRobot("team", ids.get(0)))
        .get()
        .extracting(Robot::description)
        .isEqualTo("edited by the operator");
    assertThat(requests(GET_BY_ID)).isEqualTo(1);
    client.deleteRobot(ids.get(2));
    assertThat(client.getProjectRobot("team", ids.get(2))).isEmpty();
  }

  @Test
  void aProjectOfManyRobotsOfWhichFewAreReadIsReadByIdAfterItsFirstListing() {
    client.getProjectRobot("team", ids.get(0));
    assertThat(requests(LIST)).as("two pages for one robot").isEqualTo(2);

    for (int round = 0; round < 3; round++) {
      clock.advance(FRESH_FOR);
      assertThat(client.getProjectRobot("team", ids.get(0)))
          .get()
          .extracting(Robot::id)
          .isEqualTo(ids.get(0));
    }

    assertThat(requests(LIST)).isEqualTo(2);
    assertThat(requests(GET_BY_ID)).isEqualTo(3);
  }

  @Test
  void aProjectReadByIdIsListedAgainOnceMoreRobotsThanPagesAreRead() {
    client.getProjectRobot("team", ids.get(0));
    clock.advance(FRESH_FOR);
    // Read by id now; the operator's robots in the project have grown to three meanwhile.
    for (int i = 0; i < 3; i++) {
      assertThat(client.getProjectRobot("team", ids.get(i))).isPresent();
    }
    assertThat(requests(GET_BY_ID)).isEqualTo(3);

    clock.advance(FRESH_FOR);
    for (int i = 0; i < 3; i++) {
      assertThat(client.getProjectRobot("team", ids.get(i))).isPresent();
    }

    assertThat(requests(LIST)).as("listed again: two pages for three robots").isEqualTo(4);
    assertThat(requests(GET_BY_ID)).isEqualTo(3);
  }

  @Test
  void aStaleListingIsTakenAgainAndShowsChangesMadeInHarbor() {
    // Two robots read: as many as the listing's pages, so listing stays the cheaper way.
    client.getProjectRobot("team", ids.get(0));
    client.getProjectRobot("team", ids.get(1));
    harbor.setDescriptionByHand(ids.get(0), "changed by hand");
    harbor.deleteRobotByHand(ids.get(1));

    clock.advance(FRESH_FOR);

    assertThat(client.getProjectRobot("team", ids.get(0)))
        .get()
        .extracting(Robot::description)
        .isEqualTo("changed by hand");
    assertThat(client.getProjectRobot("team", ids.get(1))).isEmpty();
    assertThat(requests(LIST)).isEqualTo(4);
    Map<String, Integer> routes = harbor.requestCountsByRoute();
    assertThat(routes.get("GET /api/v2.0/projects/{name}"))
        .as("the project's id is kept")
        .isEqualTo(1);
  }

  @Test
  void aWriteThatEndsWhileTheProjectIsListedIsReadBackFromHarbor() {
    long id = ids.get(0);
    Robot before = client.getProjectRobot("team", id).orElseThrow();
    client.getProjectRobot("team", ids.get(2));
    clock.advance(FRESH_FOR);
    // The next listing's response holds the robot as it was; the operator's own PUT of it ends
    // before that response is kept, as when another robot's reconcile lists the project while
    // this one's update is on its way.
    AtomicReference<ListingHarborClient> listingClient = new AtomicReference<>();
    HarborClient real = factory.create(endpoint());
    HarborClient writeDuringListing =
        (HarborClient)
            Proxy.newProxyInstance(
                HarborClient.class.getClassLoader(),
                new Class<?>[] {HarborClient.class},
                (proxy, method, args) -> {
                  Object result = method.invoke(real, args);
                  if (method.getName().equals("listProjectRobots")) {
                    listingClient.get().updateRobot(before.withDescription("updated meanwhile"));
                  }
                  return result;
                });
    listingClient.set(
        new ListingHarborClient(writeDuringListing, listings, "harbor " + harbor.baseUrl()));

    assertThat(listingClient.get().getProjectRobot("team", id))
        .get()
        .extracting(Robot::description)
        .as("not the description the listing's response showed")
        .isEqualTo("updated meanwhile");
    assertThat(listingClient.get().getProjectRobot("team", ids.get(1)))
        .as("the others are answered from that listing")
        .isPresent();
    assertThat(requests(GET_BY_ID)).isEqualTo(1);
  }
}
