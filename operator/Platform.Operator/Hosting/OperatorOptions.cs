using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Platform.Operator.Hosting;

/// <summary>Section "Operator".</summary>
public sealed partial class OperatorOptions : IValidatableObject
{
    /// <summary>The namespace to work in; empty: the pod's (POD_NAMESPACE), else the kubeconfig's.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>A kubeconfig file; empty: in-cluster when in a pod, else ~/.kube/config (or KUBECONFIG).</summary>
    public string Kubeconfig { get; set; } = "";

    /// <summary>Port of /healthz, /readyz and /metrics; 0 picks a free one (tests).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8080;

    [Required]
    public string LeaseName { get; set; } = "platform-operator";

    [Range(2, 300)]
    public int LeaseDurationSeconds { get; set; } = 15;

    [Range(1, 300)]
    public int RenewDeadlineSeconds { get; set; } = 10;

    [Range(1, 60)]
    public int RetryPeriodSeconds { get; set; } = 2;

    /// <summary>Every watch lists again this often, whatever it has seen.</summary>
    [Range(10, 86_400)]
    public int ResyncSeconds { get; set; } = 300;

    /// <summary>The server ends each watch after this long (and the informer resumes it).</summary>
    [Range(10, 3600)]
    public int WatchTimeoutSeconds { get; set; } = 300;

    /// <summary>Auth pods, whose loaded keyset version gates activation.</summary>
    [Required]
    public string AuthPodSelector { get; set; } = "app.kubernetes.io/name=auth";

    [Range(1, 65535)]
    public int AuthPort { get; set; } = 8080;

    /// <summary>Secret propagation to pods (kubelet sync, up to ~90 s) plus the JWKS max-age validators cache (60 s).</summary>
    [Range(1, 3600)]
    public int KeysetPropagationSeconds { get; set; } = 150;

    /// <summary>Auth's access-token lifetime plus the validators' clock skew (10 min + 30 s).</summary>
    [Range(1, 86_400)]
    public int TokenLifetimePlusSkewSeconds { get; set; } = 630;

    /// <summary>
    /// The keyset Secrets the operator may read and write, comma-separated; default: what the platform chart names its
    /// keyset for a release called platform. The operator chart sets it and grants get, list, watch and update on these
    /// names only (resourceNames), so the other Secrets of the namespace — the data tier's passwords — stay out of its
    /// reach; a SigningKeyRotation whose spec.secretName is not listed is refused.
    /// </summary>
    [Required]
    public string KeysetSecrets { get; set; } = "platform-signing-keys";

    /// <summary><see cref="KeysetSecrets"/> as a list, in order, without blanks or repeats.</summary>
    public IReadOnlyList<string> KeysetSecretNames =>
        KeysetSecrets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    public TimeSpan LeaseDuration => TimeSpan.FromSeconds(LeaseDurationSeconds);

    public TimeSpan RenewDeadline => TimeSpan.FromSeconds(RenewDeadlineSeconds);

    public TimeSpan RetryPeriod => TimeSpan.FromSeconds(RetryPeriodSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KeysetSecretNames.Count == 0)
        {
            yield return new ValidationResult("Operator:KeysetSecrets must name at least one Secret.", [nameof(KeysetSecrets)]);
        }
        foreach (var name in KeysetSecretNames.Where(n => n.Length > 253 || !SecretName().IsMatch(n)))
        {
            yield return new ValidationResult($"Operator:KeysetSecrets: \"{name}\" is not a Secret name (a DNS subdomain: lower-case letters, digits, '-' and '.').", [nameof(KeysetSecrets)]);
        }
    }

    /// <summary>A DNS-1123 subdomain, as Kubernetes names a Secret.</summary>
    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
