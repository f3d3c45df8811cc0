{{/*
Where the services find PostgreSQL, Redis and RabbitMQ: the release's own servers or external ones, and the
Secrets holding their passwords. Passwords reach a container only through secretKeyRef; the connection strings
reference them with Kubernetes' $(VAR) expansion, so no password is ever rendered into a manifest.
*/}}

{{- define "platform.postgresql.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "platform.componentName" (dict "root" . "component" "postgresql") -}}
{{- else -}}
{{- required "externalPostgresql.host is required when postgresql.enabled is false" .Values.externalPostgresql.host -}}
{{- end -}}
{{- end -}}

{{- define "platform.postgresql.readHost" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "platform.componentName" (dict "root" . "component" "postgresql-read") -}}
{{- else -}}
{{- default (include "platform.postgresql.host" .) .Values.externalPostgresql.readHost -}}
{{- end -}}
{{- end -}}

{{- define "platform.postgresql.port" -}}
{{- ternary 5432 .Values.externalPostgresql.port .Values.postgresql.enabled -}}
{{- end -}}

{{- define "platform.postgresql.username" -}}
{{- ternary .Values.postgresql.auth.username .Values.externalPostgresql.username .Values.postgresql.enabled -}}
{{- end -}}

{{- define "platform.postgresql.secretName" -}}
{{- if .Values.postgresql.enabled -}}
{{- default (include "platform.componentName" (dict "root" . "component" "postgresql")) .Values.postgresql.auth.existingSecret -}}
{{- else -}}
{{- required "externalPostgresql.existingSecret is required when postgresql.enabled is false" .Values.externalPostgresql.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "platform.postgresql.passwordKey" -}}
{{- ternary "password" .Values.externalPostgresql.passwordKey .Values.postgresql.enabled -}}
{{- end -}}

{{/*
Non-empty when each data service connects as a login role of its own, named after its database (postgresql.serviceRoles):
a breach of one service then reaches only that service's data. The administrator is left to the migration Jobs,
which create the roles; a role of the same name as the administrator would have them rewrite its own password.
*/}}
{{- define "platform.postgresql.serviceRoles" -}}
{{- /* dig: a `helm upgrade --reuse-values` from a release before this value carries no postgresql.serviceRoles. */ -}}
{{- if dig "serviceRoles" "enabled" false .Values.postgresql -}}
{{- $services := splitList " " (include "platform.dataServices" .) -}}
{{- $admin := include "platform.postgresql.username" . -}}
{{- if has $admin $services -}}
{{- fail (printf "the PostgreSQL administrator %q is also the name of a service's role (%s): give the administrator another name, or set postgresql.serviceRoles.enabled=false" $admin (join ", " $services)) -}}
{{- end -}}
{{- if and .Values.postgresql.enabled (has .Values.postgresql.auth.replicationUsername $services) -}}
{{- fail (printf "postgresql.auth.replicationUsername %q is also the name of a service's role (%s): give the replication user another name" .Values.postgresql.auth.replicationUsername (join ", " $services)) -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/*
The Secret holding the services' role passwords under <service>-password: the administrator's own existingSecret when
one is given, else the one the chart generates (datatier/secrets.yaml).
*/}}
{{- define "platform.postgresql.roleSecretName" -}}
{{- if and .Values.postgresql.enabled (not .Values.postgresql.auth.existingSecret) -}}
{{- include "platform.componentName" (dict "root" . "component" "postgresql-roles") -}}
{{- else -}}
{{- include "platform.postgresql.secretName" . -}}
{{- end -}}
{{- end -}}

{{/*
Fails the install or upgrade when the user's Secret exists without a role password the services are about to need:
the migration Jobs would otherwise wait on the missing key until Helm's timeout. Only a release against a cluster can
look; `helm template` renders without the check.
*/}}
{{- define "platform.postgresql.checkRoleSecret" -}}
{{- if and (include "platform.postgresql.serviceRoles" .) (or (not .Values.postgresql.enabled) .Values.postgresql.auth.existingSecret) -}}
{{- $name := include "platform.postgresql.roleSecretName" . -}}
{{- with lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $data := .data | default dict -}}
{{- $missing := list -}}
{{- range $component := splitList " " (include "platform.dataServices" $) -}}
{{- if not (hasKey $data (printf "%s-password" $component)) }}{{ $missing = append $missing (printf "%s-password" $component) }}{{ end -}}
{{- end -}}
{{- with $missing -}}
{{- fail (printf "Secret %s has no %s: with postgresql.serviceRoles.enabled each of auth, tasks and files connects to PostgreSQL as its own role, whose password is that key (any value: the migration sets it); add the keys, or set postgresql.serviceRoles.enabled=false" $name (join ", " .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "platform.redis.host" -}}
{{- if .Values.redis.enabled -}}
{{- include "platform.componentName" (dict "root" . "component" "redis") -}}
{{- else -}}
{{- required "externalRedis.host is required when redis.enabled is false" .Values.externalRedis.host -}}
{{- end -}}
{{- end -}}

{{- define "platform.redis.port" -}}
{{- ternary 6379 .Values.externalRedis.port .Values.redis.enabled -}}
{{- end -}}

{{- define "platform.redis.secretName" -}}
{{- if .Values.redis.enabled -}}
{{- default (include "platform.componentName" (dict "root" . "component" "redis")) .Values.redis.auth.existingSecret -}}
{{- else -}}
{{- required "externalRedis.existingSecret is required when redis.enabled is false" .Values.externalRedis.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "platform.redis.passwordKey" -}}
{{- ternary "password" .Values.externalRedis.passwordKey .Values.redis.enabled -}}
{{- end -}}

{{- define "platform.rabbitmq.host" -}}
{{- if .Values.rabbitmq.enabled -}}
{{- include "platform.componentName" (dict "root" . "component" "rabbitmq") -}}
{{- else -}}
{{- required "externalRabbitmq.host is required when rabbitmq.enabled is false" .Values.externalRabbitmq.host -}}
{{- end -}}
{{- end -}}

{{- define "platform.rabbitmq.port" -}}
{{- ternary 5672 .Values.externalRabbitmq.port .Values.rabbitmq.enabled -}}
{{- end -}}

{{- define "platform.rabbitmq.username" -}}
{{- ternary .Values.rabbitmq.auth.username .Values.externalRabbitmq.username .Values.rabbitmq.enabled -}}
{{- end -}}

{{/* The vhost as the path of an amqp URI: "/" is the default vhost, written as an empty path. */}}
{{- define "platform.rabbitmq.vhostPath" -}}
{{- $vhost := ternary "/" .Values.externalRabbitmq.vhost .Values.rabbitmq.enabled -}}
{{- if eq $vhost "/" -}}/{{- else -}}/{{ $vhost | urlquery }}{{- end -}}
{{- end -}}

{{- define "platform.rabbitmq.secretName" -}}
{{- if .Values.rabbitmq.enabled -}}
{{- default (include "platform.componentName" (dict "root" . "component" "rabbitmq")) .Values.rabbitmq.auth.existingSecret -}}
{{- else -}}
{{- required "externalRabbitmq.existingSecret is required when rabbitmq.enabled is false" .Values.externalRabbitmq.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "platform.rabbitmq.passwordKey" -}}
{{- ternary "password" .Values.externalRabbitmq.passwordKey .Values.rabbitmq.enabled -}}
{{- end -}}

{{/*
The servers' connection settings as the services read them (libraries/Platform.Data, Platform.Redis, Platform.Broker): the connection
string names server, user and options; the password arrives alone in <Store>__Password straight from its Secret and
is set on the client's builder, so no character of it (';', ',', '@', '%', '=', quotes) can break a connection
string. An external store's CA arrives as PEM in <Store>__CaCertificate from a Secret or ConfigMap key.
Call the PostgreSQL one with (dict "root" $ "component" name) for a service: its pool, and its own role with
serviceRoles; or (dict "root" $ "migrates" name) for a migration Job: the default pool, the administrator, and the
role it is to create with the password to give it.
*/}}
{{- define "platform.env.postgresql" -}}
{{- $root := .root -}}
{{- $roles := include "platform.postgresql.serviceRoles" $root -}}
{{- $user := include "platform.postgresql.username" $root -}}
{{- $secret := include "platform.postgresql.secretName" $root -}}
{{- $key := include "platform.postgresql.passwordKey" $root -}}
{{- $pool := "" -}}
{{- with .component }}
{{- $size := index $root.Values.postgresql.maxPoolSize . }}
{{- $pool = printf ";Minimum Pool Size=%v;Maximum Pool Size=%v" $size $size }}
{{- if $roles }}
{{- $user = . }}
{{- $secret = include "platform.postgresql.roleSecretName" $root }}
{{- $key = printf "%s-password" . }}
{{- end }}
{{- end -}}
{{- $tls := "" -}}
{{- if and (not $root.Values.postgresql.enabled) $root.Values.externalPostgresql.tls.enabled -}}
{{- $tls = printf ";SSL Mode=%s" $root.Values.externalPostgresql.tls.sslMode -}}
{{- end -}}
{{- $server := printf "Port=%s;Username=%s%s%s" (include "platform.postgresql.port" $root) $user $pool $tls -}}
- name: Postgres__Password
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- if and .migrates $roles }}
- name: Postgres__ServiceRole
  value: {{ .migrates | quote }}
- name: Postgres__ServiceRolePassword
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.postgresql.roleSecretName" $root }}
      key: {{ printf "%s-password" .migrates }}
- name: Postgres__ServiceRoleConnectionLimit
  {{- /* dig: --reuse-values from a release before this key leaves it out, and with it the limit. */}}
  value: {{ (dig "serviceRoles" "limitConnections" false $root.Values.postgresql) | ternary (include "platform.postgresql.connectionsAtMost" (dict "root" $root "component" .migrates)) "-1" | quote }}
{{- end }}
{{- if not $root.Values.postgresql.enabled }}
{{- include "platform.env.tlsCa" (dict "store" "Postgres" "tls" $root.Values.externalPostgresql.tls) }}
{{- end }}
- name: ConnectionStrings__Postgres
  value: {{ printf "Host=%s;%s" (include "platform.postgresql.host" $root) $server | quote }}
{{- if include "platform.postgresql.hasReplica" $root }}
- name: ConnectionStrings__PostgresReplica
  value: {{ printf "Host=%s;%s" (include "platform.postgresql.readHost" $root) $server | quote }}
{{- end }}
{{- end -}}

{{/*
Non-empty when there is a read replica to send reads to: without one the services get no ConnectionStrings__PostgresReplica
and read from the primary (a read Service without endpoints would fail every read over to it after a timeout).
*/}}
{{- define "platform.postgresql.hasReplica" -}}
{{- if .Values.postgresql.enabled -}}
{{- if gt (int .Values.postgresql.readReplicas.replicaCount) 0 }}true{{ end -}}
{{- else -}}
{{- with .Values.externalPostgresql.readHost }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* The CA of an external store's server certificate, as PEM from a Secret or ConfigMap key. (dict "store" "Redis" "tls" values) */}}
{{- define "platform.env.tlsCa" -}}
{{- $ca := .tls.ca -}}
{{- if and .tls.enabled (or $ca.secretName $ca.configMapName) }}
- name: {{ .store }}__CaCertificate
  valueFrom:
    {{- if $ca.secretName }}
    secretKeyRef: {name: {{ $ca.secretName }}, key: {{ $ca.key }}}
    {{- else }}
    configMapKeyRef: {name: {{ $ca.configMapName }}, key: {{ $ca.key }}}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "platform.env.redis" -}}
{{- $tls := and (not .Values.redis.enabled) .Values.externalRedis.tls.enabled -}}
- name: Redis__Password
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.redis.secretName" . }}
      key: {{ include "platform.redis.passwordKey" . }}
{{- if not .Values.redis.enabled }}
{{- include "platform.env.tlsCa" (dict "store" "Redis" "tls" .Values.externalRedis.tls) }}
{{- end }}
- name: ConnectionStrings__Redis
  value: "{{ include "platform.redis.host" . }}:{{ include "platform.redis.port" . }}{{ if $tls }},ssl=true{{ end }}"
{{- end -}}

{{- define "platform.env.rabbitmq" -}}
{{- $tls := and (not .Values.rabbitmq.enabled) .Values.externalRabbitmq.tls.enabled -}}
- name: RabbitMq__Password
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.rabbitmq.secretName" . }}
      key: {{ include "platform.rabbitmq.passwordKey" . }}
{{- if not .Values.rabbitmq.enabled }}
{{- include "platform.env.tlsCa" (dict "store" "RabbitMq" "tls" .Values.externalRabbitmq.tls) }}
{{- end }}
- name: ConnectionStrings__RabbitMq
  value: "{{ ternary "amqps" "amqp" $tls }}://{{ include "platform.rabbitmq.username" . | urlquery }}@{{ include "platform.rabbitmq.host" . }}:{{ include "platform.rabbitmq.port" . }}{{ include "platform.rabbitmq.vhostPath" . }}"
{{- end -}}

{{/*
max_connections of the primary and, equal, of every replica (a hot standby refuses to start with fewer than its
primary): what each data service can hold at most (connectionsAtMost below), plus the reserved ones for the migration
Jobs and superuser sessions. Readiness checks and replica-lag samples borrow from the pool. The replicas see the same
services' replica pools.
*/}}
{{- define "platform.postgresql.maxConnections" -}}
{{- $total := int .Values.postgresql.reservedConnections -}}
{{- range $component := splitList " " (include "platform.dataServices" .) -}}
{{- $total = add $total (include "platform.postgresql.connectionsAtMost" (dict "root" $ "component" $component)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/*
The connections a data service's pods can hold on one server at most: its pods at the most the plan allows (the
ScalingPolicy's maxReplicas, else replicaCount), and during a rollout at that count the surge pods starting (maxSurge
25 %, rounded up) and as many old ones still draining (they keep their pools until they exit); each pod its pool and
the outbox listener's unpooled connection. It is also the CONNECTION LIMIT of the service's role, so one service past
its plan is refused connections while the others keep theirs. Call with (dict "root" $ "component" "tasks").
*/}}
{{- define "platform.postgresql.connectionsAtMost" -}}
{{- $values := .root.Values -}}
{{- $pods := int (index $values .component).replicaCount -}}
{{- if $values.scalingPolicy.create -}}
{{- $pods = int (index $values.scalingPolicy.services .component).maxReplicas -}}
{{- end -}}
{{- $surge := div (add $pods 3) 4 -}}
{{- mul (add $pods (mul 2 $surge)) (add1 (int (index $values.postgresql.maxPoolSize .component))) -}}
{{- end -}}

{{/*
Server settings the primary and the replicas share, so a standby always has at least its primary's values: WAL for
streaming, one replication slot per replica (max_slot_wal_keep_size bounds what a lagging or removed replica's slot
may pin), and max_connections from the plan. Ends with postgresql.primary.extraArgs.
*/}}
{{- define "platform.postgresql.serverArgs" -}}
{{- $pg := .Values.postgresql -}}
{{- $senders := max 10 (add (int $pg.readReplicas.replicaCount) 4) -}}
- postgres
- -c
- max_connections={{ include "platform.postgresql.maxConnections" . }}
- -c
- wal_level=replica
- -c
- max_wal_senders={{ $senders }}
- -c
- max_replication_slots={{ $senders }}
- -c
- max_slot_wal_keep_size={{ $pg.primary.maxSlotWalKeepSize }}
- -c
- hot_standby=on
{{- range $pg.primary.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
The probes of a PostgreSQL server. Crash recovery or a replica replaying WAL to consistency can take long, and
pg_isready fails meanwhile: the startup probe gives it postgresql.startupProbe before liveness may restart it.
(dict "root" $ "startup" command "liveness" command): shell commands in place of pg_isready for those two probes;
readiness is always pg_isready.
*/}}
{{- define "platform.postgresql.probes" -}}
{{- $check := dict "exec" (dict "command" (list "sh" "-c" "pg_isready -h 127.0.0.1 -p 5432")) -}}
startupProbe:
  {{- with .startup }}
  exec:
    command: ["sh", "-c", {{ . | quote }}]
  {{- else }}
  {{- toYaml $check | nindent 2 }}
  {{- end }}
  periodSeconds: {{ .root.Values.postgresql.startupProbe.periodSeconds }}
  failureThreshold: {{ .root.Values.postgresql.startupProbe.failureThreshold }}
readinessProbe:
  {{- toYaml $check | nindent 2 }}
  periodSeconds: 5
livenessProbe:
  {{- with .liveness }}
  exec:
    command: ["sh", "-c", {{ . | quote }}]
  {{- else }}
  {{- toYaml $check | nindent 2 }}
  {{- end }}
  periodSeconds: 10
  timeoutSeconds: 8
  failureThreshold: 6
{{- end -}}

{{/*
What a replica's scripts (files/postgresql-read) need: its data directory, the primary as its replication user, and
the file that tells the probes clone-primary.sh is running (in the run emptyDir: it must not outlive the pod).
*/}}
{{- define "platform.postgresql.replicaEnv" -}}
- name: PGDATA
  value: /var/lib/postgresql/data/pgdata
- name: PLATFORM_CLONE_MARK
  value: /var/run/postgresql/clone-primary.running
- name: PLATFORM_PRIMARY_HOST
  value: {{ .primary }}
- name: PLATFORM_PRIMARY_PORT
  value: "5432"
- name: PLATFORM_REPLICATION_USER
  value: {{ .root.Values.postgresql.auth.replicationUsername | quote }}
- name: PLATFORM_REPLICATION_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "platform.postgresql.secretName" .root }}, key: replication-password}
{{- end -}}

{{/*
A Kubernetes memory quantity in bytes, as the kubelet reads it: plain bytes (1073741824, 1e9, and 1.073741824e+09,
which is how helm hands over a number of bytes written in a values file), or a number, whole or decimal, with a
binary (Ki Mi Gi Ti Pi Ei) or decimal (k M G T P E) suffix: 512Mi, 1536Mi, 1.5Gi, 0.5Gi, 500M. A fraction of a byte
is rounded up; past 12 decimal places the digits are only used to round up. Exact integer arithmetic throughout (no
float): Go templates have no decimal type, and a float would misstate large quantities.
(dict "value" quantity "name" "the.values.key"): the render fails, naming the key, on anything else (milli-bytes
included), on 0, and above 8Pi.
*/}}
{{- define "platform.quantityBytes" -}}
{{- $name := .name -}}
{{- $q := toString .value | trim -}}
{{- $pattern := `^\+?([0-9]+\.?[0-9]*|\.[0-9]+)([KMGTPE]i|[kMGTPE]|[eE]\+?[0-9]{1,2})?$` -}}
{{- if not (regexMatch $pattern $q) -}}
{{- fail (printf "%s is %q, which is not a memory quantity the chart can read: give bytes (1073741824, 1e9) or a number with a binary or decimal suffix (512Mi, 1.5Gi, 500M, 2G)" $name $q) -}}
{{- end -}}
{{- $number := regexReplaceAll $pattern $q "${1}" -}}
{{- $suffix := regexReplaceAll $pattern $q "${2}" -}}
{{- $parts := splitList "." $number -}}
{{- $whole := regexReplaceAll "^0+" (first $parts) "" | default "0" -}}
{{- $fraction := "" -}}
{{- if gt (len $parts) 1 }}{{ $fraction = index $parts 1 }}{{ end -}}
{{- $roundUp := false -}}
{{- if gt (len $fraction) 12 -}}
{{- $roundUp = regexMatch "[1-9]" (substr 12 (len $fraction) $fraction) -}}
{{- $fraction = substr 0 12 $fraction -}}
{{- end -}}
{{- /* bytes = whole × base^steps + fraction × base^steps, the fraction carried step by step as numerator / 10^digits. */ -}}
{{- $base := 1 -}}
{{- $steps := 0 -}}
{{- $powers := dict "k" 1 "K" 1 "M" 2 "G" 3 "T" 4 "P" 5 "E" 6 -}}
{{- if hasSuffix "i" $suffix -}}
{{- $base = 1024 -}}
{{- $steps = index $powers (trimSuffix "i" $suffix) -}}
{{- else if regexMatch "^[eE]" $suffix -}}
{{- $base = 10 -}}
{{- $steps = regexReplaceAll "^[eE][+]?0*" $suffix "" | default "0" | int -}}
{{- else if $suffix -}}
{{- $base = 1000 -}}
{{- $steps = index $powers $suffix -}}
{{- end -}}
{{- $ceiling := 9007199254740992 -}}{{- /* 8Pi: far above any memory limit, and × 100 (a percentage) stays within int64 */ -}}
{{- if or (gt (len $whole) 16) (gt ($whole | int64) $ceiling) -}}
{{- fail (printf "%s is %q: more than the 8Pi the chart can compute with" $name $q) -}}
{{- end -}}
{{- $bytes := $whole | int64 -}}
{{- $denominator := printf "1%s" (repeat (len $fraction) "0") | int64 -}}
{{- $numerator := regexReplaceAll "^0+" $fraction "" | default "0" | int64 -}}
{{- range until (int $steps) -}}
{{- if gt $bytes (div $ceiling $base) -}}
{{- fail (printf "%s is %q: more than the 8Pi the chart can compute with" $name $q) -}}
{{- end -}}
{{- $numerator = mul $numerator $base -}}
{{- $bytes = add (mul $bytes $base) (div $numerator $denominator) -}}
{{- $numerator = mod $numerator $denominator -}}
{{- end -}}
{{- if or (gt $numerator 0) $roundUp }}{{ $bytes = add1 $bytes }}{{ end -}}
{{- if eq $bytes 0 -}}
{{- fail (printf "%s is %q, which is 0 bytes" $name $q) -}}
{{- end -}}
{{- $bytes -}}
{{- end -}}

{{/*
Redis' maxmemory in bytes: redis.maxmemoryPercent of the container's memory limit, which must be set. Never 0: to
Redis that means no limit at all, and the kernel would kill it at the container's limit instead of it evicting.
*/}}
{{- define "platform.redis.maxmemory" -}}
{{- $limit := required "redis.resources.limits.memory is required: Redis' maxmemory is derived from it" ((.Values.redis.resources.limits | default dict).memory) -}}
{{- $bytes := include "platform.quantityBytes" (dict "value" $limit "name" "redis.resources.limits.memory") | int64 -}}
{{- $maxmemory := div (mul $bytes (int64 .Values.redis.maxmemoryPercent)) 100 -}}
{{- if eq $maxmemory 0 -}}
{{- fail (printf "redis.resources.limits.memory %v gives Redis a maxmemory of 0 bytes, which Redis reads as no limit at all: give it a limit of at least a few MiB" $limit) -}}
{{- end -}}
{{- $maxmemory -}}
{{- end -}}

{{/*
The memory RabbitMQ sizes its memory alarm (vm_memory_high_watermark.relative) against: the container's memory
limit, which must be set. Without it RabbitMQ reads the node's RAM from /proc/meminfo, and its alarm would come after
the kernel's OOM kill at the container's limit.
*/}}
{{- define "platform.rabbitmq.totalMemory" -}}
{{- $limit := required "rabbitmq.resources.limits.memory is required: RabbitMQ's memory alarm is sized from it" ((.Values.rabbitmq.resources.limits | default dict).memory) -}}
{{- include "platform.quantityBytes" (dict "value" $limit "name" "rabbitmq.resources.limits.memory") -}}
{{- end -}}

{{/* HOME of the RabbitMQ node, where Erlang finds its cookie: an emptyDir, not the data volume (datatier/rabbitmq.yaml). */}}
{{- define "platform.rabbitmq.home" -}}/var/run/rabbitmq-home{{- end -}}

{{/*
A preferred anti-affinity from the PostgreSQL pods of the given components ("primary", "read"): one node's loss
then takes the primary or a replica, not both, and not two replicas, wherever the nodes allow it.
*/}}
{{- define "platform.postgresql.apartFrom" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    {{- range $i, $component := .components }}
    - weight: {{ ternary 100 50 (eq $i 0) }}
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "platform.selectorLabels" (dict "root" $.root "component" "postgresql") | nindent 12 }}
            app.kubernetes.io/component: {{ $component }}
    {{- end }}
{{- end -}}

{{/*
A data-tier StatefulSet's volumes cannot change size or storage class in place: Kubernetes refuses any change to a
StatefulSet's volumeClaimTemplates, and an upgrade would fail only after its migration Jobs had run, half applied.
Against a cluster that already has the StatefulSet, the release fails before anything runs and says what to do
instead. `helm template` cannot look, and renders as before.
Call with (dict "root" $ "name" statefulSetName "persistence" values "path" "postgresql.primary.persistence").
*/}}
{{- define "platform.checkVolumeClaims" -}}
{{- $live := lookup "apps/v1" "StatefulSet" .root.Release.Namespace .name -}}
{{- range (($live | default dict).spec | default dict).volumeClaimTemplates -}}
{{- if eq .metadata.name "data" -}}
{{- $liveSize := toString (((.spec.resources | default dict).requests | default dict).storage | default "") -}}
{{- $size := toString $.persistence.size -}}
{{- $liveBytes := include "platform.liveQuantityBytes" $liveSize -}}
{{- if and $liveBytes (ne $size $liveSize) (ne $liveBytes (include "platform.quantityBytes" (dict "value" $size "name" (printf "%s.size" $.path)))) -}}
{{- fail (printf "%s.size is %s, but the volumes of StatefulSet %s were made with %s, and a StatefulSet's volumes cannot change size: the upgrade would fail after its migrations ran. To grow them (where the storage class allows expansion), resize each claim data-%s-<ordinal> with kubectl patch pvc, then `kubectl delete statefulset %s --cascade=orphan` (the pods keep running) and upgrade again; or keep %s" $.path $size $.name $liveSize $.name $.name $liveSize) -}}
{{- end -}}
{{- $liveClass := toString (.spec.storageClassName | default "") -}}
{{- if ne $liveClass (toString ($.persistence.storageClass | default "")) -}}
{{- fail (printf "%s.storageClass is %q, but the volumes of StatefulSet %s were made with %q, and a StatefulSet's volumes cannot move to another storage class: the upgrade would fail after its migrations ran. Keep %q, or migrate the data to a new release" $.path (toString ($.persistence.storageClass | default "")) $.name $liveClass $liveClass) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A size the API server returned, in bytes, or nothing for a form the chart does not read (then nothing is compared and
the API server judges). The API server gives a quantity in its canonical form: a size that is no whole number of
bytes (0.1Gi) comes back in milli-bytes (107374182400m), read here rounded up, as quantityBytes rounds a value.
*/}}
{{- define "platform.liveQuantityBytes" -}}
{{- if regexMatch "^[0-9]+m$" . -}}
{{- div (add (int64 (trimSuffix "m" .)) 999) 1000 -}}
{{- else if regexMatch `^\+?([0-9]+\.?[0-9]*|\.[0-9]+)([KMGTPE]i|[kMGTPE]|[eE]\+?[0-9]{1,2})?$` . -}}
{{- include "platform.quantityBytes" (dict "value" . "name" "a size the API server returned") -}}
{{- end -}}
{{- end -}}
