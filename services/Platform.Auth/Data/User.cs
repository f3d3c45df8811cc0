namespace Platform.Auth.Data;

public sealed class User
{
    public Guid Id { get; set; }

    /// <summary>The address as the user typed it (trimmed), for display.</summary>
    public string Email { get; set; } = "";

    /// <summary>Lower-cased: the unique key, so "Ada@X.org" and "ada@x.org" are one account.</summary>
    public string EmailNormalized { get; set; } = "";

    public string? Name { get; set; }

    public string PasswordHash { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Always holds <c>user</c>; sorted and distinct, so two role sets compare as lists.</summary>
    public List<string> Roles { get; set; } = [Platform.Authentication.PlatformRoles.User];

    /// <summary>Set by an admin: no login, no refresh, and every session ended when it was set.</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>The user proved they read mail at <see cref="Email"/> (a verification link, <c>POST /api/auth/email/verify</c>).</summary>
    public bool EmailVerified { get; set; }
}
