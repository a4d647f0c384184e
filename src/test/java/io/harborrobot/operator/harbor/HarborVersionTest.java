package io.harborrobot.operator.harbor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HarborVersionTest {

  @Test
  void readsWhatSysteminfoReports() {
    assertThat(HarborVersion.parse("v2.15.2-a1b2c3d4")).contains(new HarborVersion(2, 15, 2));
    assertThat(HarborVersion.parse("v2.9.1")).contains(new HarborVersion(2, 9, 1));
    assertThat(HarborVersion.parse("2.10")).contains(new HarborVersion(2, 10, 0));
    assertThat(HarborVersion.parse("dev")).isEmpty();
    assertThat(HarborVersion.parse(null)).isEmpty();
  }

  @Test
  void ordersByNumberNotByText() {
    assertThat(new HarborVersion(2, 9, 1).isBefore(new HarborVersion(2, 10, 0))).isTrue();
    assertThat(new HarborVersion(2, 1, 9).isBefore(HarborVersion.MINIMUM)).isTrue();
    assertThat(HarborVersion.MINIMUM.isBefore(HarborVersion.MINIMUM)).isFalse();
    assertThat(new HarborVersion(3, 0, 0).isBefore(HarborVersion.RECOMMENDED)).isFalse();
  }
}
