package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A Harbor instance that HarborRobots of several namespaces may use, as its access rules allow. The
 * platform team owns it; tenants never see its credentials.
 */
@JsonDeserialize(using = TolerantDeserializer.ForClusterHarborConnection.class)
@Group(HarborRobot.GROUP)
@Version(HarborRobot.VERSION)
// Spelled out, as on HarborRobot: fabric8 would derive it again for every instance.
@Plural("clusterharborconnections")
@ShortNames("chconn")
@Categories("harbor")
@JsonClassDescription(
    "A Harbor instance, the credentials the operator uses there, and which namespaces may use it"
        + " for which projects.")
@AdditionalPrinterColumn(name = "URL", jsonPath = ".spec.url")
@AdditionalPrinterColumn(name = "Version", jsonPath = ".status.harborVersion")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@ValidationRule(
    value = "has(self.spec.credentialsSecretRef.__namespace__)",
    message = "credentialsSecretRef.namespace is required for a ClusterHarborConnection")
@ValidationRule(
    value = "!has(self.spec.caSecretRef) || has(self.spec.caSecretRef.__namespace__)",
    message = "caSecretRef.namespace is required for a ClusterHarborConnection")
public class ClusterHarborConnection
    extends TolerantResource<ClusterHarborConnectionSpec, HarborConnectionStatus> {

  /** Marks the ClusterHarborConnection used by HarborRobots that name no connection. */
  public static final String DEFAULT_ANNOTATION = "harborrobot.io/default-connection";

  /** Whether this connection carries the default-connection annotation set to "true". */
  @JsonIgnore
  public boolean isDefault() {
    return getMetadata().getAnnotations() != null
        && "true".equals(getMetadata().getAnnotations().get(DEFAULT_ANNOTATION));
  }
}
