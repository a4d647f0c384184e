package io.harborrobot.operator.harbor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RobotSecretTest {

  @Test
  void generatedSecretsMeetHarborsRuleAndDiffer() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      RobotSecret secret = RobotSecret.generate();
      assertThat(secret.reveal()).hasSize(32).matches("[A-Za-z0-9]+");
      assertThat(secret.meetsHarborComplexity()).isTrue();
      seen.add(secret.reveal());
    }
    assertThat(seen).hasSize(200);
  }

  @Test
  void complexityRuleIsHarbors() {
    assertThat(RobotSecret.of("Abcdefg1").meetsHarborComplexity()).isTrue();
    assertThat(RobotSecret.of("Abcdef1").meetsHarborComplexity()).isFalse();
    assertThat(RobotSecret.of("abcdefg1").meetsHarborComplexity()).isFalse();
    assertThat(RobotSecret.of("ABCDEFG1").meetsHarborComplexity()).isFalse();
    assertThat(RobotSecret.of("Abcdefgh").meetsHarborComplexity()).isFalse();
    assertThat(RobotSecret.of("A1" + "b".repeat(127)).meetsHarborComplexity()).isFalse();
  }

  @Test
  void itPrintsMaskedButSerialisesItsValueForRequestBodies() throws Exception {
    RobotSecret secret = RobotSecret.of("Sup3rSecretValue");
    assertThat(secret.toString()).doesNotContain("Sup3r");
    assertThat(String.valueOf(Map.of("secret", secret))).doesNotContain("Sup3r");
    assertThat(new ObjectMapper().writeValueAsString(Map.of("secret", secret)))
        .isEqualTo("{\"secret\":\"Sup3rSecretValue\"}");
    assertThat(new HarborEndpoint("https://h", "admin", secret, null, false).toString())
        .doesNotContain("Sup3r");
  }
}
