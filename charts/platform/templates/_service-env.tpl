{{/*
The configuration of one service container (README "Ports and configuration"; scripts/platform.sh sets the same
variables for `make run`). Call with (dict "root" $ "component" "auth").
*/}}
{{- define "platform.env.service" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- if has $component (splitList " " (include "platform.dataServices" $root)) }}
{{ include "platform.env.postgresql" $root }}
{{ include "platform.env.rabbitmq" $root }}
{{- end }}
{{ include "platform.env.redis" $root }}
# Every service validates bearer tokens against auth's JWKS, reached inside the cluster.
- name: Auth__Issuer
  value: {{ include "platform.issuer" $root | quote }}
- name: Auth__JwksUri
  value: "{{ include "platform.serviceUrl" (dict "root" $root "component" "auth") }}/.well-known/jwks.json"
{{- if eq $component "auth" }}
- name: Tokens__Issuer
  value: {{ include "platform.issuer" $root | quote }}
- name: Keys__Directory
  value: /var/run/platform/keys
{{- end }}
{{- if eq $component "gateway" }}
# Overrides the one destination of each upstream in the gateway's appsettings.json ("local") with the Service.
{{- range $upstream := list "auth" "tasks" "files" }}
- name: ReverseProxy__Clusters__{{ $upstream }}__Destinations__local__Address
  value: "{{ include "platform.serviceUrl" (dict "root" $root "component" $upstream) }}/"
{{- end }}
{{- end }}
{{- with $root.Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with (index $root.Values $component).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
