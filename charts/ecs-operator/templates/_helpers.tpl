{{/* Name of the chart, overridable. */}}
{{- define "ecs-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: the release name when it already contains the chart name. */}}
{{- define "ecs-operator.fullname" -}}
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

{{/* Labels on every object. */}}
{{- define "ecs-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ecs-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ecs-operator
{{- end }}

{{/* Labels the Deployment selects its pods by (never change between upgrades). */}}
{{- define "ecs-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecs-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "ecs-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecs-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader election Lease. */}}
{{- define "ecs-operator.leaseName" -}}
{{- default (include "ecs-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference: digest wins over tag; tag defaults to appVersion. */}}
{{- define "ecs-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The rules the operator needs on its own kinds and on events, wherever they are watched
(a ClusterRole, or a Role in operator.watchNamespace). Compared against the calls the operator
makes in tests/tests/chart_rbac.rs: add a rule here only with a call that needs it.
*/}}
{{- define "ecs-operator.controllerRules" -}}
- apiGroups: [ecs-operator.dev]
  resources: [ecsservices, bluegreenrollouts, scalingpolicies]
  verbs: [get, list, watch, patch]
- apiGroups: [ecs-operator.dev]
  resources: [ecsservices/status, bluegreenrollouts/status, scalingpolicies/status]
  verbs: [patch]
- apiGroups: [ecs-operator.dev]
  resources: [releasegroups]
  verbs: [get, list, watch]
- apiGroups: [ecs-operator.dev]
  resources: [releasegroups/status]
  verbs: [patch]
- apiGroups: [ecs-operator.dev]
  resources: [notificationpolicies]
  verbs: [get, list, watch]
- apiGroups: [ecs-operator.dev]
  resources: [notificationpolicies/status]
  verbs: [patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* Settings that cannot work together: fail at render time, not in the pod. */}}
{{- define "ecs-operator.validate" -}}
{{- if ge (int .Values.leaderElection.leaseGraceSeconds) (int .Values.leaderElection.leaseDurationSeconds) }}
{{- fail "leaderElection.leaseGraceSeconds must be smaller than leaderElection.leaseDurationSeconds" }}
{{- end }}
{{- if ge (int .Values.operator.shutdownGraceSeconds) (int .Values.terminationGracePeriodSeconds) }}
{{- fail "operator.shutdownGraceSeconds must be smaller than terminationGracePeriodSeconds (the kubelet kills the pod then)" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: two operators would reconcile the same objects" }}
{{- end }}
{{- end }}
