package io.harborrobot.operator.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnectionSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {

  private static ClusterHarborConnection connection(AccessRule... rules) {
    ClusterHarborConnection connection = new ClusterHarborConnection();
    connection.getMetadata().setName("harbor-prod");
    ClusterHarborConnectionSpec spec = new ClusterHarborConnectionSpec();
    spec.setAccess(List.of(rules));
    connection.setSpec(spec);
    return connection;
  }

  private static AccessRule rule(
      List<String> namespaces, LabelSelector selector, String... projects) {
    AccessRule rule = new AccessRule();
    rule.setNamespaces(namespaces);
    rule.setNamespaceSelector(selector);
    rule.setProjects(List.of(projects));
    return rule;
  }

  private static AccessPolicy.Decision decide(
      ClusterHarborConnection c, String namespace, Map<String, String> labels, String project) {
    return AccessPolicy.evaluate(c, namespace, labels, project, false);
  }

  @Test
  void noRulesNoAccess() {
    assertThat(decide(connection(), "team-a", Map.of(), "team-a").allowed()).isFalse();
    assertThat(decide(connection(), "team-a", Map.of(), "team-a").message())
        .contains("has no access rules");
  }

  @Test
  void aRuleMustMatchBothTheNamespaceAndTheProject() {
    ClusterHarborConnection c = connection(rule(List.of("team-a"), null, "team-a", "team-a-*"));

    assertThat(decide(c, "team-a", Map.of(), "team-a").allowed()).isTrue();
    assertThat(decide(c, "team-a", Map.of(), "team-a-build").allowed()).isTrue();
    assertThat(decide(c, "team-a", Map.of(), "team-ab").allowed()).isFalse();
    assertThat(decide(c, "team-a", Map.of(), "team-b").message())
        .isEqualTo(
            "ClusterHarborConnection harbor-prod lets namespace team-a use projects"
                + " [team-a, team-a-*], not team-b");
    assertThat(decide(c, "team-b", Map.of(), "team-a").message())
        .contains("has no access rule for namespace team-b");
  }

  @Test
  void globsQuoteEverythingButStarAndQuestionMark() {
    assertThat(AccessPolicy.globMatches("team.a", "team.a")).isTrue();
    assertThat(AccessPolicy.globMatches("team.a", "teamXa")).as("'.' is literal").isFalse();
    assertThat(AccessPolicy.globMatches("t?am-*", "team-anything")).isTrue();
    assertThat(AccessPolicy.globMatches("t?am-*", "tam-x")).isFalse();
    assertThat(AccessPolicy.globMatches("*", "")).isTrue();
    assertThat(AccessPolicy.globMatches("a[b]", "a[b]")).isTrue();
    assertThat(AccessPolicy.globMatches("a[b]", "ab")).isFalse();
    assertThat(AccessPolicy.globMatches("*", "*")).as("every project needs exactly *").isTrue();
    assertThat(AccessPolicy.globMatches("?", "*")).isFalse();
    assertThat(AccessPolicy.globMatches("team-*", "*")).isFalse();
  }

  @Test
  void selectorsFollowKubernetesSemantics() {
    LabelSelector selector =
        new LabelSelectorBuilder()
            .withMatchLabels(Map.of("tenant", "blue"))
            .addNewMatchExpression()
            .withKey("tier")
            .withOperator("In")
            .withValues("prod", "staging")
            .endMatchExpression()
            .addNewMatchExpression()
            .withKey("frozen")
            .withOperator("DoesNotExist")
            .endMatchExpression()
            .build();

    assertThat(AccessPolicy.selectorMatches(selector, Map.of("tenant", "blue", "tier", "prod")))
        .isTrue();
    assertThat(AccessPolicy.selectorMatches(selector, Map.of("tenant", "blue", "tier", "dev")))
        .isFalse();
    assertThat(
            AccessPolicy.selectorMatches(
                selector, Map.of("tenant", "blue", "tier", "prod", "frozen", "")))
        .isFalse();
    assertThat(AccessPolicy.selectorMatches(selector, Map.of("tier", "prod"))).isFalse();
    assertThat(AccessPolicy.selectorMatches(new LabelSelector(), Map.of()))
        .as("an empty selector selects everything, as in Kubernetes")
        .isTrue();
    LabelSelector unknownOperator =
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withKey("tier")
            .withOperator("Matches")
            .endMatchExpression()
            .build();
    assertThat(AccessPolicy.selectorMatches(unknownOperator, Map.of("tier", "prod"))).isFalse();
  }

  @Test
  void systemLevelNeedsARuleThatAllowsIt() {
    AccessRule projectOnly = rule(List.of("platform"), null, "*");
    AccessRule system = rule(List.of("platform"), null, "*");
    system.setAllowSystemLevel(true);

    assertThat(
            AccessPolicy.evaluate(connection(projectOnly), "platform", Map.of(), "x", true)
                .message())
        .contains("project robots only");
    assertThat(
            AccessPolicy.evaluate(connection(projectOnly, system), "platform", Map.of(), "x", true)
                .allowed())
        .isTrue();
  }
}
