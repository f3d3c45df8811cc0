{{/*
A generated password that survives upgrades: the value already stored in the release's Secret when there is one
(lookup), else a new random one. Passwords are never in values by default. `helm template` cannot look up, so it
renders a fresh value each time; only an install or upgrade against a cluster keeps the stored one.
Call with (dict "root" $ "secret" name "key" key).
*/}}
{{- define "platform.generatedPassword" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}
