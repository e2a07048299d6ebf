{{/*
Helpers shared by the templates. Only a small subset of Go template syntax is used (fields,
include, if/else, range, toYaml, toJson, nindent, quote, default, required): cluster-node's
HelmChartTest renders the chart with its own renderer of exactly that subset, without helm.
*/}}

{{/* The name of every object of a release: "<release>-grange". */}}
{{- define "grange.fullname" -}}
{{ .Release.Name }}-grange
{{- end }}

{{/* What selects the node pods: the StatefulSet, the Services and Kubernetes API discovery. */}}
{{- define "grange.selectorLabels" -}}
app.kubernetes.io/name: grange
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The same as a label selector string, for pekko.discovery.kubernetes-api. */}}
{{- define "grange.selectorString" -}}
app.kubernetes.io/name=grange,app.kubernetes.io/instance={{ .Release.Name }}
{{- end }}

{{- define "grange.labels" -}}
{{ include "grange.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: grange-{{ .Chart.Version }}
{{- end }}

{{/* Where the Kubernetes pools make their pods and Secrets: pool.namespace, else the release's. */}}
{{- define "grange.poolNamespace" -}}
{{ .Values.pool.namespace | default .Release.Namespace }}
{{- end }}

{{/* The Secret holding the master key. */}}
{{- define "grange.masterKeySecret" -}}
{{- if .Values.masterKey.existingSecret -}}
{{ .Values.masterKey.existingSecret }}
{{- else -}}
{{ include "grange.fullname" . }}-master-key
{{- end }}
{{- end }}

{{/* The URL agents dial, in the cluster: the HTTP Service. */}}
{{- define "grange.serviceWsUrl" -}}
ws://{{ include "grange.fullname" . }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}:8080
{{- end }}
