{{/* Names and labels of the operator chart (the same conventions as the platform chart's _helpers.tpl). */}}

{{- define "operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* app.kubernetes.io/name is "platform-operator": the platform chart's NetworkPolicy lets these pods reach auth. */}}
{{- define "operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "operator.labels" -}}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/part-of: platform
app.kubernetes.io/component: operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The operator's image, as the platform chart names its services' images: its own registry wins, else
global.imageRegistry; its own tag wins, else global.imageTag, else the appVersion. Nobody publishes it for you, so
without a registry the render fails with what to do, unless the values say the image is in the nodes (kind).
*/}}
{{- define "operator.image" -}}
{{- $registry := default .Values.global.imageRegistry .Values.image.registry -}}
{{- if not (or $registry .Values.global.localImages) -}}
{{- fail "the operator's image has no registry: set global.imageRegistry to the registry you pushed with `make push REGISTRY=…`, or use values-kind.yaml (image loaded into kind, global.localImages: true)" -}}
{{- end -}}
{{- $tag := default .Chart.AppVersion (default .Values.global.imageTag .Values.image.tag) -}}
{{- $reference := ternary (printf "%s:%s" .Values.image.repository $tag) (printf "%s@%s" .Values.image.repository .Values.image.digest) (empty .Values.image.digest) -}}
{{- if $registry -}}
{{- printf "%s/%s" $registry $reference -}}
{{- else -}}
{{- $reference -}}
{{- end -}}
{{- end -}}
