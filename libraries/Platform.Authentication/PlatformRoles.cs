namespace Platform.Authentication;

/// <summary>
/// The roles a user can hold. Every account has <see cref="User"/>; the set is open (a role is a lower-case word),
/// so a new role needs no schema change, only a policy that asks for it.
/// </summary>
public static class PlatformRoles
{
    public const string User = "user";
    public const string Admin = "admin";

    /// <summary>A role name: 1–32 lower-case ASCII letters, digits, '-' or '_', starting with a letter.</summary>
    public static bool IsValidName(string? role) =>
        role is { Length: >= 1 and <= 32 } && char.IsAsciiLetterLower(role[0])
        && role.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
}

/// <summary>
/// Named authorization policies, usable both on a service's endpoints (<c>RequireAuthorization(PlatformPolicies.Admin)</c>)
/// and as a gateway route's <c>AuthorizationPolicy</c>. A valid token without the role is answered 403.
/// </summary>
public static class PlatformPolicies
{
    public const string Admin = "Admin";
}
