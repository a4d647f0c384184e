package io.harborrobot.operator.ops;

import java.util.concurrent.ForkJoinPool;

/**
 * Gives the JDK's common fork-join pool at least two threads, before anything uses it.
 *
 * <p>With 2 CPUs or fewer (a container limit of 2 included) the JVM sizes the common pool to one
 * thread, and {@code CompletableFuture} then runs every asynchronous step on a thread of its own,
 * started for that step and ended after it. The JDK HTTP client the Kubernetes client uses
 * completes every response with such a step: one thread started and ended per request to the API
 * server (the bench counted 8,400 for 1,000 new robots, a quarter of the operator's CPU time).
 */
public final class CommonPool {

  static final String PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  private CommonPool() {}

  /**
   * Sets the common pool's parallelism to at least 2 unless the JVM was told a value; has no effect
   * once the pool exists, hence the first thing {@code main} does.
   */
  public static void ensureShared() {
    if (System.getProperty(PARALLELISM) == null) {
      int processors = Runtime.getRuntime().availableProcessors();
      System.setProperty(PARALLELISM, Integer.toString(Math.max(2, processors - 1)));
    }
  }

  /** Whether asynchronous steps run on the common pool rather than a new thread each. */
  public static boolean isShared() {
    return ForkJoinPool.getCommonPoolParallelism() > 1;
  }
}
