{{/*
Names, labels, images and the in-cluster addresses every template of the chart shares.
*/}}

{{/* The four services, in the order they are listed everywhere. */}}
{{- define "platform.services" -}}
gateway auth tasks files
{{- end -}}

{{/* The services that own a database, run migrations and produce or consume events. */}}
{{- define "platform.dataServices" -}}
auth tasks files
{{- end -}}

{{- define "platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "platform.fullname" -}}
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

{{/* Name of a component's objects: "<fullname>-<component>". Call with (dict "root" $ "component" "auth"). */}}
{{- define "platform.componentName" -}}
{{- printf "%s-%s" (include "platform.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels of a component. app.kubernetes.io/name is the component itself (auth, tasks, …): the operator
finds the auth pods by app.kubernetes.io/name=auth. These labels never change across upgrades, because a
Deployment's selector is immutable.
*/}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "platform.labels" -}}
{{ include "platform.selectorLabels" . }}
app.kubernetes.io/part-of: {{ include "platform.name" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "platform.chart" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.annotations of every object, when commonAnnotations or extra ones are set. Call with (dict "root" $ "extra" map). */}}
{{- define "platform.annotations" -}}
{{- $all := merge (deepCopy (default (dict) .extra)) .root.Values.commonAnnotations -}}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
An image reference from {registry, repository, tag, digest}: the image's own registry, else global.imageRegistry;
the tag defaults to appVersion. The data tier's images name docker.io themselves, so pointing global.imageRegistry
at the registry the platform's images were pushed to leaves them where they are published.
*/}}
{{- define "platform.image" -}}
{{- $registry := default .root.Values.global.imageRegistry .image.registry -}}
{{- $tag := default .root.Chart.AppVersion .image.tag -}}
{{- $reference := ternary (printf "%s:%s" .image.repository $tag) (printf "%s@%s" .image.repository .image.digest) (empty .image.digest) -}}
{{- if $registry -}}
{{- printf "%s/%s" $registry $reference -}}
{{- else -}}
{{- $reference -}}
{{- end -}}
{{- end -}}

{{/*
The image of one of the four services (its Deployment and its migration Job), tagged as global.imageTag says
unless the service names its own tag. Nobody publishes these images for you: without a registry the reference
would be pulled from Docker Hub, where they do not exist, so the render fails with what to do instead, unless
the values say the images are already in the nodes (kind, skaffold). Call with (dict "root" $ "component" "auth").
*/}}
{{- define "platform.serviceImage" -}}
{{- $image := (index .root.Values .component).image -}}
{{- if not (or $image.registry .root.Values.global.imageRegistry .root.Values.global.localImages) -}}
{{- fail "the platform's images have no registry: set global.imageRegistry to the registry you pushed with `make push REGISTRY=…`, or use values-kind.yaml (images loaded into kind, global.localImages: true)" -}}
{{- end -}}
{{- $tagged := merge (dict "tag" (default .root.Values.global.imageTag $image.tag)) $image -}}
{{- include "platform.image" (dict "root" .root "image" $tagged) -}}
{{- end -}}

{{- define "platform.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The upstreams the gateway reaches over HTTP/2 without TLS (edge.http2Upstreams), space-separated; empty: none. */}}
{{- define "platform.h2cUpstreams" -}}
{{- if .Values.edge.http2Upstreams -}}auth tasks{{- end -}}
{{- end -}}

{{/* The headless Service of an upstream's h2c port. Call with (dict "root" $ "component" "tasks"). */}}
{{- define "platform.h2cServiceName" -}}
{{- include "platform.componentName" (dict "root" .root "component" (printf "%s-h2c" .component)) -}}
{{- end -}}

{{/* The port auth and tasks keep for the gateway's HTTP/2 (h2c), beside 8080 for everyone else. */}}
{{- define "platform.h2cPort" -}}8081{{- end -}}

{{/* A Service's in-cluster DNS name. Call with (dict "root" $ "component" "auth"). */}}
{{- define "platform.serviceHost" -}}
{{- printf "%s.%s.svc.%s" (include "platform.componentName" .) .root.Release.Namespace .root.Values.global.clusterDomain -}}
{{- end -}}

{{/* The base URL of a service inside the cluster: http://<service>.<namespace>.svc.<domain>[:port]. */}}
{{- define "platform.serviceUrl" -}}
{{- $port := int (index .root.Values .component).service.port -}}
{{- if eq $port 80 -}}
{{- printf "http://%s" (include "platform.serviceHost" .) -}}
{{- else -}}
{{- printf "http://%s:%d" (include "platform.serviceHost" .) $port -}}
{{- end -}}
{{- end -}}

{{/* The token issuer: configured, else the public Ingress URL, else the gateway's in-cluster URL. */}}
{{- define "platform.issuer" -}}
{{- if .Values.config.issuer -}}
{{- .Values.config.issuer -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.hostname -}}
{{- else -}}
{{- include "platform.serviceUrl" (dict "root" . "component" "gateway") -}}
{{- end -}}
{{- end -}}

{{- define "platform.signingKeysSecret" -}}
{{- default (printf "%s-signing-keys" (include "platform.fullname" .)) .Values.signingKeys.secretName -}}
{{- end -}}

{{/*
Where a pod may run: its values' nodeSelector, tolerations and affinity (each optional); without an
affinity of its own, the one given as "default" (YAML). Keys of a pod spec, for nindent 6.
*/}}
{{- define "platform.placement" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .values.affinity }}
affinity:
  {{- toYaml .values.affinity | nindent 2 }}
{{- else if .default }}
affinity:
  {{- .default | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Preferred spread over nodes and zones, unless the values give their own constraints. */}}
{{- define "platform.topologySpread" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.topologySpreadConstraints }}
{{- toYaml $values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/*
A PodDisruptionBudget's maxUnavailable, refused at render when it is 0 (or 0 %): such a budget lets no pod be evicted,
so every `kubectl drain` — a node upgrade, the cluster autoscaler removing a node — waits on these pods forever.
(dict "value" maxUnavailable "name" "gateway.pdb")
*/}}
{{- define "platform.pdb.maxUnavailable" -}}
{{- if regexMatch "^0+%?$" (toString .value) -}}
{{- fail (printf "%s.maxUnavailable is %v: a PodDisruptionBudget that lets no pod go blocks every node drain (kubectl drain, node upgrades and the cluster autoscaler evict through it and would wait forever). Give 1 or more, or a percentage above 0%%; or set %s.create=false" .name .value .name) -}}
{{- end -}}
{{- .value -}}
{{- end -}}

{{/*
Seconds a service drains in-flight requests after SIGTERM (its Shutdown__TimeoutSeconds): the grace period less the
preStop sleep (both count from the start of the hook) less 5 s for the process to exit, at least 1. (the service's values)
*/}}
{{- define "platform.drainSeconds" -}}
{{- max 1 (sub (sub (int64 .terminationGracePeriodSeconds) (int64 .preStopSleepSeconds)) 5) -}}
{{- end -}}

{{/*
Refuses a service whose preStop sleep lasts as long as its grace period: the grace period starts with the preStop
hook, so the kubelet would kill the pod (SIGKILL, 2 s after the grace period ends) before SIGTERM lets it drain its
in-flight requests. (dict "values" the service's values "name" "gateway")
*/}}
{{- define "platform.checkTermination" -}}
{{- $sleep := int64 .values.preStopSleepSeconds -}}
{{- $grace := int64 .values.terminationGracePeriodSeconds -}}
{{- if ge $sleep $grace -}}
{{- fail (printf "%s.preStopSleepSeconds (%d) must be less than %s.terminationGracePeriodSeconds (%d): the grace period counts from the start of the preStop sleep, so the kubelet would kill the pod before SIGTERM lets it drain its in-flight requests. Give a grace period of the sleep plus the drain time you want plus 5 s (the drain, Shutdown__TimeoutSeconds, is set to what is left)" .name $sleep .name $grace) -}}
{{- end -}}
{{- end -}}

{{/*
The replica count an upgrade with scalingPolicy.create carries over from the live Deployment, or nothing (the field
left to the operator's HPA). A count an earlier release set (scalingPolicy.create was false) must not simply vanish from
the manifest: Helm would remove it and the Deployment fall to 1 pod until its HPA caught up. So the count is carried
over, except when Helm last wrote the Deployment server-side (its newest managedFields entry, manager "helm", is an
Apply) and no Apply of Helm's owns the count any more (the HPA has changed it since, and owns it): leaving it out then
removes nothing, while carrying it over could conflict with an HPA scaling during the upgrade's migrations. A release
Helm writes client-side compares with its previous manifest, not with owners, so it keeps carrying the count; other
managers' entries say nothing of how Helm writes. A first install leaves the count to the HPA. `helm template` (and a
GitOps tool rendering with it) cannot look, and leaves it out. Call with (dict "root" $ "name" deploymentName).
*/}}
{{- define "platform.carryOverReplicas" -}}
{{- $live := lookup "apps/v1" "Deployment" .root.Release.Namespace .name -}}
{{- if and $live (hasKey ($live.spec | default dict) "replicas") -}}
{{- $newest := dict -}}
{{- $appliedReplicas := false -}}
{{- range ($live.metadata.managedFields | default list) -}}
{{- if eq (toString .manager) "helm" -}}
{{- if or (not $newest) (ge (toString .time) (toString $newest.time)) }}{{ $newest = . }}{{ end -}}
{{- if and (eq .operation "Apply") (hasKey (index (.fieldsV1 | default dict) "f:spec" | default dict) "f:replicas") }}{{ $appliedReplicas = true }}{{ end -}}
{{- end -}}
{{- end -}}
{{- if or (ne (toString $newest.operation) "Apply") $appliedReplicas -}}
{{- int64 $live.spec.replicas -}}
{{- end -}}
{{- end -}}
{{- end -}}
