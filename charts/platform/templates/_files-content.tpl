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

{{/*
The created claim as the cluster has it may grow (once bound, where its storage class allows expansion) but not shrink,
and its access modes and storage class cannot change, their order included: Kubernetes refuses such an update, and the
upgrade would fail after its migration Jobs had run. Against a cluster that already has the claim, the release fails
first and says what to keep.
*/}}
{{- define "platform.files.checkContentClaim" -}}
{{- $volume := .Values.files.contentVolume -}}
{{- $name := include "platform.files.contentClaimName" . -}}
{{- with lookup "v1" "PersistentVolumeClaim" .Release.Namespace $name -}}
{{- $spec := .spec | default dict -}}
{{- $liveSize := toString ((($spec.resources | default dict).requests | default dict).storage | default "") -}}
{{- $liveBytes := include "platform.liveQuantityBytes" $liveSize -}}
{{- $bytes := include "platform.quantityBytes" (dict "value" (toString $volume.size) "name" "files.contentVolume.size") -}}
{{- if and $liveBytes (lt (int64 $bytes) (int64 $liveBytes)) -}}
{{- fail (printf "files.contentVolume.size is %s, but claim %s already has %s, and a claim cannot shrink: the upgrade would fail after its migrations ran. Keep %s or more" (toString $volume.size) $name $liveSize $liveSize) -}}
{{- end -}}
{{- if and $liveBytes (gt (int64 $bytes) (int64 $liveBytes)) (ne (toString ((.status | default dict).phase)) "Bound") -}}
{{- fail (printf "files.contentVolume.size is %s, but claim %s (%s) is not bound yet, and only a bound claim can grow: the upgrade would fail after its migrations ran. Keep %s until it is bound" (toString $volume.size) $name $liveSize $liveSize) -}}
{{- end -}}
{{- $liveModes := $spec.accessModes | default list -}}
{{- if ne (join "," $liveModes) (join "," $volume.accessModes) -}}
{{- fail (printf "files.contentVolume.accessModes is [%s], but claim %s was made with [%s], and a claim's access modes cannot change (nor their order): the upgrade would fail after its migrations ran. Keep [%s], or move the files to a new claim (files.contentVolume.existingClaim)" (join ", " $volume.accessModes) $name (join ", " $liveModes) (join ", " $liveModes)) -}}
{{- end -}}
{{- if and $volume.storageClassName (ne (toString $volume.storageClassName) (toString ($spec.storageClassName | default ""))) -}}
{{- fail (printf "files.contentVolume.storageClassName is %q, but claim %s was made with %q, and a claim cannot move to another storage class: the upgrade would fail after its migrations ran. Keep %q, or move the files to a new claim (files.contentVolume.existingClaim)" (toString $volume.storageClassName) $name (toString ($spec.storageClassName | default "")) (toString ($spec.storageClassName | default ""))) -}}
{{- end -}}
{{- if and $liveBytes (gt (int64 $bytes) (int64 $liveBytes)) (dig "checkExpansion" true $volume) -}}
{{- include "platform.files.checkClaimExpansion" (dict "claim" . "name" $name "size" (toString $volume.size) "liveSize" $liveSize) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A claim grows only where its storage class allows volume expansion: the API server's PersistentVolumeClaimResize
admission refuses it when the claim names no class (statically provisioned), when the class is gone, or when the class
does not set allowVolumeExpansion: true. The claim's class as Kubernetes reads it: the beta annotation when the claim
has it (even empty), else spec.storageClassName. Looked up only when the size grows, and a lookup cannot be caught when
it is refused, so a resize needs the right to get StorageClasses (cluster-scoped), which the API server's own check
does not: files.contentVolume.checkExpansion=false skips this one.
*/}}
{{- define "platform.files.checkClaimExpansion" -}}
{{- $claim := .claim -}}
{{- $annotations := ($claim.metadata | default dict).annotations | default dict -}}
{{- $class := "" -}}
{{- if hasKey $annotations "volume.beta.kubernetes.io/storage-class" -}}
{{- $class = index $annotations "volume.beta.kubernetes.io/storage-class" | toString -}}
{{- else -}}
{{- $class = (($claim.spec | default dict).storageClassName | default "") | toString -}}
{{- end -}}
{{- $keep := printf "Keep %s, or move the files to a new, larger claim (files.contentVolume.existingClaim)" .liveSize -}}
{{- if not $class -}}
{{- fail (printf "files.contentVolume.size is %s, but claim %s (%s) has no storage class, and only a dynamically provisioned claim can grow: the upgrade would fail after its migrations ran. %s" .size .name .liveSize $keep) -}}
{{- end -}}
{{- $storageClass := lookup "storage.k8s.io/v1" "StorageClass" "" $class -}}
{{- if not $storageClass -}}
{{- fail (printf "files.contentVolume.size is %s, but the storage class %q of claim %s (%s) does not exist, and a claim grows only where its class allows it: the upgrade would fail after its migrations ran. %s" .size $class .name .liveSize $keep) -}}
{{- end -}}
{{- if not (eq (toString $storageClass.allowVolumeExpansion) "true") -}}
{{- fail (printf "files.contentVolume.size is %s, but the storage class %q of claim %s (%s) does not allow volume expansion (allowVolumeExpansion), so the claim cannot grow: the upgrade would fail after its migrations ran. %s, or have the cluster's administrator allow expansion on that class if its provisioner supports it" .size $class .name .liveSize $keep) -}}
{{- end -}}
{{- end -}}

{{/*
The storage class the created claim is rendered with: the values', else the one the claim already has (the cluster's
default, filled in when it was made, or one an earlier release named): leaving the field out would remove it, which
Kubernetes refuses. Empty for a new claim without one (the cluster's default applies).
*/}}
{{- define "platform.files.contentClass" -}}
{{- if .Values.files.contentVolume.storageClassName -}}
{{- .Values.files.contentVolume.storageClassName -}}
{{- else -}}
{{- with lookup "v1" "PersistentVolumeClaim" .Release.Namespace (include "platform.files.contentClaimName" .) -}}
{{- (.spec | default dict).storageClassName | default "" -}}
{{- end -}}
{{- end -}}
{{- end -}}
