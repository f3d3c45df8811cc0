using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Platform.Operator.Resources;

/// <summary>The platform.dev/v1alpha1 SigningKeyRotation custom resource (docs/architecture.md §5.2); its CRD is charts/platform-operator/crds/signingkeyrotations.platform.dev.yaml.</summary>
[KubernetesEntity(Group = PlatformGroup.Name, ApiVersion = PlatformGroup.Version, Kind = KindName, PluralName = "signingkeyrotations")]
public sealed class SigningKeyRotation : IKubernetesObject<V1ObjectMeta>
{
    public const string KindName = "SigningKeyRotation";

    public string ApiVersion { get; set; } = PlatformGroup.ApiVersion;

    public string Kind { get; set; } = KindName;

    public V1ObjectMeta Metadata { get; set; } = new();

    public SigningKeyRotationSpec Spec { get; set; } = new();

    public SigningKeyRotationStatus? Status { get; set; }
}

public sealed class SigningKeyRotationSpec
{
    /// <summary>The Secret holding keyset.json, owned by this resource.</summary>
    public string SecretName { get; set; } = "";

    public string Algorithm { get; set; } = "ES256";

    /// <summary>Go duration: how long a key signs before its successor activates.</summary>
    public string RotationPeriod { get; set; } = "720h";

    /// <summary>Go duration: how long a next key is published before it activates.</summary>
    public string PrePublish { get; set; } = "10m";

    /// <summary>Go duration: how long a retired key stays published.</summary>
    public string RetireAfter { get; set; } = "1h";

    /// <summary>Any new value forces one rotation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RotateNow { get; set; }

    /// <summary>With a new rotateNow: activate the new key at once and drop every old one.</summary>
    public bool Emergency { get; set; }

    /// <summary>
    /// The labels of the auth pods that load this keyset; absent: the operator's Operator:AuthPodSelector. The
    /// platform chart sets its release's, so two releases in one namespace never wait on each other's pods.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AuthPodSelector? AuthPodSelector { get; set; }
}

/// <summary>A label selector with equality terms only (matchLabels), as the auth pods' labels are matched.</summary>
public sealed class AuthPodSelector
{
    public IDictionary<string, string> MatchLabels { get; set; } = new Dictionary<string, string>();

    /// <summary>The selector as the API's labelSelector query parameter: "k=v,k=v", in key order.</summary>
    public string ToQuery() => string.Join(',', MatchLabels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}

public sealed class SigningKeyRotationStatus
{
    public long? ObservedGeneration { get; set; }

    public string? ActiveKid { get; set; }

    public string? NextKid { get; set; }

    public DateTimeOffset? LastRotationTime { get; set; }

    public DateTimeOffset? NextRotationTime { get; set; }

    /// <summary>The rotateNow value already acted on.</summary>
    public string? HandledRotateNow { get; set; }

    /// <summary>Every kid in the keyset, so a keyset deleted by hand can be reported with what it held.</summary>
    public IList<string>? PublishedKids { get; set; }

    /// <summary>Auth pods that have not loaded the current keyset; activation waits for them.</summary>
    public IList<string>? LaggingPods { get; set; }

    public IList<V1Condition>? Conditions { get; set; }
}
