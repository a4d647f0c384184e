package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A Harbor instance that HarborRobots in the same namespace may use. */
@JsonDeserialize(using = TolerantDeserializer.ForHarborConnection.class)
@Group(HarborRobot.GROUP)
@Version(HarborRobot.VERSION)
// Spelled out, as on HarborRobot: fabric8 would derive it again for every instance.
@Plural("harborconnections")
@ShortNames("hconn")
@Categories("harbor")
@JsonClassDescription(
    "A Harbor instance and the credentials the operator uses there, for HarborRobots in this"
        + " namespace only.")
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
    value = "!has(self.spec.credentialsSecretRef.__namespace__)",
    message =
        "a HarborConnection reads its credentials from its own namespace: remove"
            + " credentialsSecretRef.namespace (or use a ClusterHarborConnection)")
@ValidationRule(
    value = "!has(self.spec.caSecretRef) || !has(self.spec.caSecretRef.__namespace__)",
    message =
        "a HarborConnection reads its CA from its own namespace: remove caSecretRef.namespace")
public class HarborConnection extends TolerantResource<HarborConnectionSpec, HarborConnectionStatus>
    implements Namespaced {}
