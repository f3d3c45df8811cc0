using System.ComponentModel.DataAnnotations;

namespace Platform.Auth;

/// <summary>Section "Tokens": lifetimes of what auth hands out, and who it says issued them.</summary>
public sealed class TokenOptions
{
    /// <summary>The <c>iss</c> of every access token: the platform's public base address.</summary>
    [Required, Url]
    public string Issuer { get; set; } = "";

    [Required]
    public string Audience { get; set; } = "platform";

    [Range(1, 60)]
    public int AccessTokenMinutes { get; set; } = 10;

    [Range(1, 90)]
    public int RefreshTokenDays { get; set; } = 7;

    /// <summary>A user's sessions beyond this many evict the oldest.</summary>
    [Range(1, 1000)]
    public int MaxSessionsPerUser { get; set; } = 10;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromDays(RefreshTokenDays);
}

/// <summary>Section "Passwords".</summary>
public sealed class PasswordOptions
{
    /// <summary>
    /// bcrypt work factor. 11 costs 132 ms of CPU per hash on the 2-core development machine (10: 66 ms,
    /// 12: 262 ms), inside the 100–250 ms a hash should take; raising it rehashes each password at its next login.
    /// </summary>
    [Range(4, 16)]
    public int BcryptCost { get; set; } = 11;

    /// <summary>Hashes computed at once; 0 means one per CPU core.</summary>
    [Range(0, 256)]
    public int MaxConcurrentHashes { get; set; }

    /// <summary>Logins allowed to wait for a hashing slot before further ones get 503 with Retry-After.</summary>
    [Range(0, 10_000)]
    public int MaxQueuedHashes { get; set; } = 64;
}

/// <summary>Section "Keys": where the operator's keyset is mounted.</summary>
public sealed class KeysOptions
{
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>How often the keyset file is re-read even without a change notification (Secret volumes swap symlinks).</summary>
    [Range(1, 300)]
    public int PollSeconds { get; set; } = 2;

    /// <summary>Cache-Control max-age of the JWKS; the operator's prePublish must exceed it.</summary>
    [Range(0, 3600)]
    public int JwksMaxAgeSeconds { get; set; } = 60;
}
