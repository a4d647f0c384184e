package io.harborrobot.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The common pool, in a JVM that sees 2 CPUs as a container limit makes it see them: without {@link
 * CommonPool#ensureShared()} every asynchronous step starts a thread of its own, with it they run
 * on the pool's threads.
 */
class CommonPoolTest {

  @Test
  void withTwoCpusAsyncStepsRunOnTheCommonPoolOnlyAfterEnsureShared() throws Exception {
    assertThat(runWithTwoCpus(false))
        .as("the JVM's own choice on 2 CPUs: a thread per step")
        .isEqualTo("parallelism=1 shared=false thread=new");
    assertThat(runWithTwoCpus(true)).isEqualTo("parallelism=2 shared=true thread=pool");
  }

  @Test
  void aParallelismGivenToTheJvmIsKept() {
    String before = System.getProperty(CommonPool.PARALLELISM);
    try {
      System.setProperty(CommonPool.PARALLELISM, "7");
      CommonPool.ensureShared();
      assertThat(System.getProperty(CommonPool.PARALLELISM)).isEqualTo("7");
    } finally {
      if (before == null) {
        System.clearProperty(CommonPool.PARALLELISM);
      } else {
        System.setProperty(CommonPool.PARALLELISM, before);
      }
    }
  }

  private static String runWithTwoCpus(boolean ensureShared)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:ActiveProcessorCount=2");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Probe.class.getName());
    command.add(Boolean.toString(ensureShared));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(output).isZero();
    return output.strip();
  }

  /** Runs in the JVM the test starts, as {@code main} of the operator would. */
  public static final class Probe {
    public static void main(String[] args) {
      if (Boolean.parseBoolean(args[0])) {
        CommonPool.ensureShared();
      }
      String thread = CompletableFuture.supplyAsync(() -> Thread.currentThread().getName()).join();
      System.out.println(
          "parallelism="
              + ForkJoinPool.getCommonPoolParallelism()
              + " shared="
              + CommonPool.isShared()
              + " thread="
              + (thread.startsWith("ForkJoinPool.commonPool") ? "pool" : "new"));
    }
  }
}
