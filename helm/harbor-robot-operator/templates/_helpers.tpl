{{/*
The chart name, or nameOverride.
*/}}
{{- define "harbor-robot-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name used for every resource: fullnameOverride, else the release name when it already
contains the chart name (helm install harbor-robot-operator ...), else <release>-<chart>.
Truncated to 63 characters (DNS label).
*/}}
{{- define "harbor-robot-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "harbor-robot-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object of the release.
*/}}
{{- define "harbor-robot-operator.labels" -}}
helm.sh/chart: {{ include "harbor-robot-operator.chart" . }}
{{ include "harbor-robot-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: harbor-robot-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: what the Deployment and the Service select the operator pods by. Never change
them in an upgrade (a Deployment's selector is immutable).
*/}}
{{- define "harbor-robot-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "harbor-robot-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The operator's ServiceAccount.
*/}}
{{- define "harbor-robot-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "harbor-robot-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false: name an existing ServiceAccount" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image: repository and tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "harbor-robot-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The subject every binding grants to: the operator's ServiceAccount.
*/}}
{{- define "harbor-robot-operator.subjects" -}}
subjects:
  - kind: ServiceAccount
    name: {{ include "harbor-robot-operator.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
Namespaces (besides the watched ones) where the operator may get the Secrets of
ClusterHarborConnections, in the namespaced mode: the release namespace, the namespace of the
chart's own ClusterHarborConnection Secrets, and rbac.connectionSecretNamespaces. One per line.
*/}}
{{- define "harbor-robot-operator.connectionSecretNamespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- with .Values.clusterHarborConnection }}
{{- if .create }}
{{- $namespaces = append $namespaces (default $.Release.Namespace .credentialsSecret.namespace) }}
{{- if .caSecret.name }}
{{- $namespaces = append $namespaces (default $.Release.Namespace .caSecret.namespace) }}
{{- end }}
{{- end }}
{{- end }}
{{- $namespaces = concat $namespaces .Values.rbac.connectionSecretNamespaces }}
{{- join "\n" (uniq $namespaces) }}
{{- end }}

{{/*
PromQL label matchers scoping the alerts to this release's series.
*/}}
{{- define "harbor-robot-operator.seriesSelector" -}}
{{- default (printf "job=%q" (include "harbor-robot-operator.fullname" .)) .Values.metrics.prometheusRule.selector }}
{{- end }}
