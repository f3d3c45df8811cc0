namespace Platform.Auth.Data;

/// <summary>
/// A single-use token mailed to a user: a password reset or an e-mail verification. Only its SHA-256 is stored;
/// <see cref="UsedAt"/> is set by the one <c>UPDATE … WHERE used_at IS NULL</c> that redeems it.
/// </summary>
public sealed class AccountToken
{
    public const string PasswordReset = "password-reset";
    public const string EmailVerification = "email-verification";

    public byte[] Hash { get; set; } = [];

    public Guid UserId { get; set; }

    /// <summary><see cref="PasswordReset"/> or <see cref="EmailVerification"/>: a token redeems only what it was made for.</summary>
    public string Purpose { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}
