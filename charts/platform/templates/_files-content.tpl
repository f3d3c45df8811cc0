{{/*
The files service's content volume (files.contentVolume): where new uploads' bytes go instead of PostgreSQL.
*/}}

{{/* The claim the files pods mount: existingClaim, else the one the chart creates. */}}
{{- define "platform.files.contentClaimName" -}}
{{- default (include "platform.componentName" (dict "root" . "component" "files-content")) .Values.files.contentVolume.existingClaim -}}
{{- end -}}

{{/*
Most files pods that may run at once: the cap of the HPA when the operator scales them (it never sets one below the
minimum: operator/Platform.Operator/Scaling/ReplicaBounds.cs), else replicaCount. Every one of them mounts the volume.
*/}}
{{- define "platform.files.maxPods" -}}
{{- if .Values.scalingPolicy.create -}}
{{- $hpa := .Values.scalingPolicy.services.files -}}
{{- max (int $hpa.minReplicas) (int $hpa.maxReplicas) -}}
{{- else -}}
{{- int .Values.files.replicaCount -}}
{{- end -}}
{{- end -}}

{{/* Refuses a content volume the files pods could not all write to. */}}
{{- define "platform.files.validateContentVolume" -}}
{{- $volume := .Values.files.contentVolume -}}
{{- if not (isAbs $volume.mountPath) -}}
{{- fail (printf "files.contentVolume.mountPath must be an absolute path, not %q: it is where the files container mounts the volume and writes its content" $volume.mountPath) -}}
{{- end -}}
{{- $pods := int (include "platform.files.maxPods" .) -}}
{{- if and (gt $pods 1) (not (has "ReadWriteMany" $volume.accessModes)) -}}
{{- $setting := ternary "scalingPolicy.services.files.minReplicas and maxReplicas" "files.replicaCount" .Values.scalingPolicy.create -}}
{{- fail (printf "files.contentVolume.accessModes must include ReadWriteMany: up to %d files pods (%s) mount the one volume, and a %s volume would pin them all to one node or leave them Pending. Use a storage class that offers ReadWriteMany (NFS, EFS, CephFS, Azure Files…), or set %s to 1" $pods $setting (join "/" $volume.accessModes) $setting) -}}
{{- end -}}
{{- end -}}

{{/*
The files pods' security context with the content volume: podSecurityContext, plus the group the kubelet gives the
volume to, so the non-root user can write to it. 1654 is the "app" group of the .NET images the Dockerfile runs as
(USER $APP_UID), unless podSecurityContext names another group. OnRootMismatch: a volume already owned by that group
is not walked file by file at every start, which on a large volume would hold the pod back for minutes.
*/}}
{{- define "platform.files.podSecurityContext" -}}
{{- $group := default 1654 .Values.podSecurityContext.runAsGroup -}}
{{- toYaml (merge (deepCopy .Values.podSecurityContext) (dict "fsGroup" $group "fsGroupChangePolicy" "OnRootMismatch")) -}}
{{- end -}}
