using System.ComponentModel.DataAnnotations;

namespace Platform.Gateway.RateLimiting;

/// <summary>The <c>RateLimiting</c> section: named policies that routes pick with their <c>RateLimitPolicy</c> metadata.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks (CIDR) of peers that are not limited on routes whose metadata says <c>RateLimitExemptPeers: true</c>
    /// — the ingress controller calling the forward-auth endpoint on behalf of every client of another app.
    /// The immediate peer counts, not a forwarded address. Empty by default: nobody is exempt.
    /// </summary>
    public List<string> ExemptNetworks { get; set; } = [];

    /// <summary>Policy used by authenticated routes that name none.</summary>
    public string DefaultAuthenticatedPolicy { get; set; } = "user";

    public Dictionary<string, RateLimitPolicyOptions> Policies { get; set; } = new(StringComparer.Ordinal);
}

public enum RateLimitKey
{
    /// <summary>Per client address (after trusted X-Forwarded-For): for anonymous routes.</summary>
    Address,

    /// <summary>Per authenticated user (<c>sub</c>): for everything behind a token.</summary>
    User,
}

public sealed class RateLimitPolicyOptions
{
    /// <summary>Requests allowed per window on average.</summary>
    [Range(1, 10_000_000)]
    public int Limit { get; set; }

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>How many requests may arrive at once; defaults to <see cref="Limit"/>, so an idle client has its whole window's budget.</summary>
    [Range(1, 10_000_000)]
    public int? Burst { get; set; }

    public RateLimitKey Key { get; set; } = RateLimitKey.Address;
}
