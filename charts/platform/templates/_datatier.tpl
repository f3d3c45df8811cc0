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

{{/* PostgreSQL settings: the password variable must come before the strings that expand it. */}}
{{- define "platform.env.postgresql" -}}
- name: PLATFORM_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.postgresql.secretName" . }}
      key: {{ include "platform.postgresql.passwordKey" . }}
- name: ConnectionStrings__Postgres
  value: "Host={{ include "platform.postgresql.host" . }};Port={{ include "platform.postgresql.port" . }};Username={{ include "platform.postgresql.username" . }};Password=$(PLATFORM_POSTGRES_PASSWORD)"
- name: ConnectionStrings__PostgresReplica
  value: "Host={{ include "platform.postgresql.readHost" . }};Port={{ include "platform.postgresql.port" . }};Username={{ include "platform.postgresql.username" . }};Password=$(PLATFORM_POSTGRES_PASSWORD)"
{{- end -}}

{{- define "platform.env.redis" -}}
- name: PLATFORM_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.redis.secretName" . }}
      key: {{ include "platform.redis.passwordKey" . }}
- name: ConnectionStrings__Redis
  value: "{{ include "platform.redis.host" . }}:{{ include "platform.redis.port" . }},password=$(PLATFORM_REDIS_PASSWORD)"
{{- end -}}

{{- define "platform.env.rabbitmq" -}}
- name: PLATFORM_RABBITMQ_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "platform.rabbitmq.secretName" . }}
      key: {{ include "platform.rabbitmq.passwordKey" . }}
- name: ConnectionStrings__RabbitMq
  value: "amqp://{{ include "platform.rabbitmq.username" . }}:$(PLATFORM_RABBITMQ_PASSWORD)@{{ include "platform.rabbitmq.host" . }}:{{ include "platform.rabbitmq.port" . }}{{ include "platform.rabbitmq.vhostPath" . }}"
{{- end -}}
