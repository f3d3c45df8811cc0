using k8s;
using k8s.Models;

namespace Platform.Operator.Resources;

/// <summary>
/// Owner references: what the operator creates is deleted with the resource that asked for it — the HPAs with their
/// ScalingPolicy. Not the keyset Secret: the signing keys outlive their SigningKeyRotation (see SigningKeyRotationController).
/// </summary>
public static class Owner
{
    public static V1OwnerReference Of(IKubernetesObject<V1ObjectMeta> owner) => new()
    {
        ApiVersion = owner.ApiVersion,
        Kind = owner.Kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>The name of the controlling owner of the given kind, if any.</summary>
    public static string? ControllerName(V1ObjectMeta metadata, string kind) =>
        metadata.OwnerReferences?.FirstOrDefault(o => o.Kind == kind && o.Controller == true)?.Name;
}
