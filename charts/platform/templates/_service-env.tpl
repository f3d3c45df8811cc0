{{/*
The configuration of one service container (README "Ports and configuration"; scripts/platform.sh sets the same
variables for `make run`). Call with (dict "root" $ "component" "auth").
*/}}
{{- define "platform.env.service" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- if has $component (splitList " " (include "platform.dataServices" $root)) }}
{{ include "platform.env.postgresql" (dict "root" $root "component" $component) }}
{{ include "platform.env.rabbitmq" $root }}
{{- end }}
{{ include "platform.env.redis" $root }}
# Draining after SIGTERM may take what the grace period leaves after the preStop sleep, less 5 s for the process to
# exit before the kubelet's SIGKILL (at least 1 s): files' uploads in flight get the grace period they were given.
- name: Shutdown__TimeoutSeconds
  value: {{ include "platform.drainSeconds" (index $root.Values $component) | quote }}
# Every service validates bearer tokens against auth's JWKS, reached inside the cluster.
- name: Auth__Issuer
  value: {{ include "platform.issuer" $root | quote }}
- name: Auth__JwksUri
  value: "{{ include "platform.serviceUrl" (dict "root" $root "component" "auth") }}/.well-known/jwks.json"
{{- if eq $component "auth" }}
# bcrypt on as many threads as the pod requests cores: without a CPU limit .NET counts the node's cores, and a login
# storm at one pod would take every spare core of its node from the pods beside it (make bench, scenario 8d).
- name: Passwords__MaxConcurrentHashes
  value: {{ include "platform.auth.hashingSlots" $root | quote }}
- name: Tokens__Issuer
  value: {{ include "platform.issuer" $root | quote }}
- name: Keys__Directory
  value: /var/run/platform/keys
{{- end }}
{{- if eq $component "auth" }}
# Account mails (password reset, e-mail verification): their links, and the SMTP relay auth's mail outbox delivers to.
- name: Accounts__PublicUrl
  value: {{ default (include "platform.issuer" $root) $root.Values.auth.publicUrl | quote }}
- name: Accounts__RequireVerifiedEmail
  value: {{ $root.Values.auth.requireVerifiedEmail | quote }}
{{- with $root.Values.auth.smtp }}
{{- if .host }}
- name: Mail__Host
  value: {{ .host | quote }}
- name: Mail__Port
  value: {{ .port | quote }}
- name: Mail__Security
  value: {{ get (dict "starttls" "StartTls" "tls" "Tls" "none" "None") .tls | quote }}
- name: Mail__From
  value: {{ .from | quote }}
{{- if .existingSecret }}
- name: Mail__Username
  valueFrom:
    secretKeyRef: {name: {{ .existingSecret }}, key: username}
- name: Mail__Password
  valueFrom:
    secretKeyRef: {name: {{ .existingSecret }}, key: password}
{{- end }}
{{- end }}
{{- end }}
# Sessions record the client's address from X-Forwarded-For, believed only from the gateway (in-cluster networks).
{{- range $i, $network := $root.Values.edge.trustedProxies }}
- name: ForwardedHeaders__TrustedNetworks__{{ $i }}
  value: {{ $network | quote }}
{{- end }}
{{- end }}
{{- if has $component (splitList " " (include "platform.h2cUpstreams" $root)) }}
# 8080 for everyone (probes, Prometheus, validators fetching the JWKS); {{ include "platform.h2cPort" $root }} for the gateway, HTTP/2 only.
- name: Kestrel__Endpoints__Http__Url
  value: "http://+:8080"
- name: Kestrel__Endpoints__H2c__Url
  value: "http://+:{{ include "platform.h2cPort" $root }}"
- name: Kestrel__Endpoints__H2c__Protocols
  value: Http2
{{- end }}
{{- if eq $component "gateway" }}
{{- if $root.Values.eventStream.enabled }}
# GET /api/events: one consumer of platform.events per pod; the resume log in Redis.
{{ include "platform.env.rabbitmq" $root }}
- name: EventStream__KeepAliveSeconds
  value: {{ $root.Values.eventStream.keepAliveSeconds | quote }}
- name: EventStream__MaxStreamsPerUser
  value: {{ $root.Values.eventStream.maxStreamsPerUser | quote }}
- name: EventStream__MaxStreams
  value: {{ $root.Values.eventStream.maxStreams | quote }}
- name: EventStream__RetentionSeconds
  value: {{ $root.Values.eventStream.retentionSeconds | quote }}
- name: EventStream__MaxEventsPerUser
  value: {{ $root.Values.eventStream.maxEventsPerUser | quote }}
{{- else }}
- name: EventStream__Enabled
  value: "false"
{{- end }}
# Overrides the one destination of each upstream in the gateway's appsettings.json ("local") with the Service; for
# those reached over HTTP/2, the headless Service, whose name the gateway resolves to every ready pod.
{{- $h2c := splitList " " (include "platform.h2cUpstreams" $root) }}
{{- range $upstream := list "auth" "tasks" "files" }}
{{- if has $upstream $h2c }}
- name: ReverseProxy__Clusters__{{ $upstream }}__Destinations__local__Address
  value: "http://{{ include "platform.h2cServiceName" (dict "root" $root "component" $upstream) }}.{{ $root.Release.Namespace }}.svc.{{ $root.Values.global.clusterDomain }}:{{ include "platform.h2cPort" $root }}/"
- name: ReverseProxy__Clusters__{{ $upstream }}__HttpRequest__Version
  value: "2"
- name: ReverseProxy__Clusters__{{ $upstream }}__HttpRequest__VersionPolicy
  value: RequestVersionExact
{{- else }}
- name: ReverseProxy__Clusters__{{ $upstream }}__Destinations__local__Address
  value: "{{ include "platform.serviceUrl" (dict "root" $root "component" $upstream) }}/"
{{- end }}
{{- end }}
{{- range $i, $network := $root.Values.edge.trustedProxies }}
- name: Edge__TrustedProxies__{{ $i }}
  value: {{ $network | quote }}
{{- end }}
- name: Edge__ProxyHops
  value: {{ $root.Values.edge.proxyHops | default 1 | quote }}
{{- range $i, $origin := $root.Values.edge.corsOrigins }}
- name: Edge__CorsOrigins__{{ $i }}
  value: {{ $origin | quote }}
{{- end }}
{{- range $i, $network := $root.Values.edge.rateLimitExemptNetworks }}
- name: RateLimiting__ExemptNetworks__{{ $i }}
  value: {{ $network | quote }}
{{- end }}
{{- range $policy, $limits := $root.Values.edge.rateLimits }}
{{- with $limits.limit }}
- name: RateLimiting__Policies__{{ $policy }}__Limit
  value: {{ . | quote }}
{{- end }}
{{- with $limits.windowSeconds }}
- name: RateLimiting__Policies__{{ $policy }}__WindowSeconds
  value: {{ . | quote }}
{{- end }}
{{- with $limits.burst }}
- name: RateLimiting__Policies__{{ $policy }}__Burst
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq $component "files") $root.Values.files.contentVolume.enabled }}
# New uploads' bytes go to the shared volume mounted there; earlier uploads stay where they were stored.
- name: Files__ContentDirectory
  value: {{ $root.Values.files.contentVolume.mountPath | quote }}
{{- end }}
{{- with $root.Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with (index $root.Values $component).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Hashes auth computes at once per pod: auth.maxConcurrentHashes, else its CPU request in cores rounded up (at least 1).
*/}}
{{- define "platform.auth.hashingSlots" -}}
{{- $set := int (default 0 .Values.auth.maxConcurrentHashes) -}}
{{- if gt $set 0 -}}
{{- $set -}}
{{- else -}}
{{- $cpu := toString (dig "requests" "cpu" "1" .Values.auth.resources) -}}
{{- $milli := 0 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $milli = int (trimSuffix "m" $cpu) -}}
{{- else -}}
{{- $milli = int (mulf (float64 $cpu) 1000) -}}
{{- end -}}
{{- max 1 (div (add $milli 999) 1000) -}}
{{- end -}}
{{- end -}}
