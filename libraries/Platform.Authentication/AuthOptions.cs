using System.ComponentModel.DataAnnotations;

namespace Platform.Authentication;

/// <summary>The <c>Auth</c> configuration section: who issues the access tokens we accept and how we check them.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The <c>iss</c> every accepted token carries.</summary>
    [Required]
    public string Issuer { get; set; } = "";

    /// <summary>The <c>aud</c> every accepted token carries.</summary>
    [Required]
    public string Audience { get; set; } = "platform";

    /// <summary>
    /// The auth service's <c>/.well-known/jwks.json</c>. Required unless the service registers its own
    /// <see cref="ISigningKeySource"/> (the auth service reads its keys from its keyset file instead).
    /// </summary>
    public Uri? JwksUri { get; set; }

    /// <summary>Tolerated clock difference between the issuer and us when checking <c>exp</c> and <c>nbf</c>.</summary>
    [Range(0, 300)]
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>
    /// How many validated tokens are remembered, about 1.2 KB each (~120 MB when the default is full). Beyond
    /// that new tokens are validated on every request until expired entries make room; 0 turns the cache off.
    /// </summary>
    [Range(0, 1_000_000)]
    public int TokenCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// How long a session revoked by a pub/sub message stays refused here. The message carries only the
    /// session id, so this must be at least the longest access-token lifetime plus skew; a resync from Redis
    /// replaces it with the exact time auth stored.
    /// </summary>
    [Range(60, 86_400)]
    public int RevokedSessionRetentionSeconds { get; set; } = 3_600;
}
