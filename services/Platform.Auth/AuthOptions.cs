using System.ComponentModel.DataAnnotations;

namespace Platform.Auth;

/// <summary>Section "Tokens": lifetimes of what auth hands out, and who it says issued them.</summary>
public sealed class TokenOptions
{
    public const string Section = "Tokens";

    /// <summary>The <c>iss</c> of every access token: the platform's public base address.</summary>
    [Required, Url]
    public string Issuer { get; set; } = "";

    [Required]
    public string Audience { get; set; } = "platform";

    [Range(1, 60)]
    public int AccessTokenMinutes { get; set; } = 10;

    /// <summary>A user's sessions beyond this many evict the oldest.</summary>
    [Range(1, 1000)]
    public int MaxSessionsPerUser { get; set; } = 10;

    /// <summary>
    /// How often the revocations of the last token lifetime that Redis no longer holds (evicted, or lost) are written
    /// again: the longest a pod started after such a loss may accept a revoked session's tokens.
    /// </summary>
    [Range(1, 3600)]
    public int RevocationReassertSeconds { get; set; } = 60;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);
}

/// <summary>
/// Section "Sessions": how long a login lives. A refresh token lives as long as its session may, so there is no
/// separate refresh-token lifetime; access tokens never outlive their session's absolute end.
/// </summary>
public sealed class SessionOptions
{
    public const string Section = "Sessions";

    /// <summary>A session without activity (a refresh or <c>POST /api/auth/sessions/current/activity</c>) for this long is over.</summary>
    [Range(typeof(TimeSpan), "00:02:00", "30.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A session is over this long after the login that started it, however active it is.</summary>
    [Range(typeof(TimeSpan), "00:02:00", "365.00:00:00")]
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Activity is written to the database at most this often per session, so an active client does not turn every
    /// request into a write. Idle expiry is measured from the last written activity: up to this much early.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ActivityWriteInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often expired sessions are closed (the retention job deletes them, section "Retention").</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Section "Passwords".</summary>
public sealed class PasswordOptions
{
    public const string Section = "Passwords";

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

    /// <summary>
    /// Longest a login waits for a hashing slot before it gets 503 with Retry-After: a client that would time out
    /// anyway hears "try again" instead, and stops holding a place in the queue.
    /// </summary>
    [Range(0.1, 60)]
    public double MaxHashWaitSeconds { get; set; } = 3;
}

/// <summary>Section "Keys": where the operator's keyset is mounted.</summary>
public sealed class KeysOptions
{
    public const string Section = "Keys";

    [Required]
    public string Directory { get; set; } = "";

    /// <summary>How often the keyset file is re-read even without a change notification (Secret volumes swap symlinks).</summary>
    [Range(1, 300)]
    public int PollSeconds { get; set; } = 2;

    /// <summary>Cache-Control max-age of the JWKS; the operator's prePublish must exceed it.</summary>
    [Range(0, 3600)]
    public int JwksMaxAgeSeconds { get; set; } = 60;
}

/// <summary>Section "Accounts": the account lifecycle around the password — reset, e-mail verification — and its mail.</summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>
    /// The address users open links at (<c>{PublicUrl}/reset-password?token=…</c>, <c>{PublicUrl}/verify-email?token=…</c>);
    /// empty means <c>Tokens:Issuer</c>, the platform's public base address.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>How long a password-reset link works: short, since whoever reads the mail can take the account.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PasswordResetTokenLifetime { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan EmailVerificationTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Refuse logins (403 <c>email-not-verified</c>) until the address is verified.</summary>
    public bool RequireVerifiedEmail { get; set; }

    /// <summary>
    /// Mails of one kind (reset, verification) to one address per <see cref="MailQuotaWindow"/>; requests beyond it
    /// are answered as usual but send nothing, so nobody can flood an inbox through the platform.
    /// </summary>
    [Range(1, 1000)]
    public int MailsPerAddress { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MailQuotaWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How recent the login that started a session must be for it to delete an account (the caller's own, or a user's as admin).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan ReauthenticationWindow { get; set; } = TimeSpan.FromMinutes(10);
}
