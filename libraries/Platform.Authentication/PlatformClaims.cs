namespace Platform.Authentication;

/// <summary>
/// The claims of an authenticated request, under their JWT names: inbound claim mapping is off, so
/// <c>sub</c> stays <c>sub</c> instead of becoming a long SOAP-era URI.
/// </summary>
public static class PlatformClaims
{
    public const string UserId = "sub";
    public const string SessionId = "sid";
    public const string Email = "email";

    /// <summary>The user's roles, a JSON array (RFC 9068 §7.2.1.1 names it <c>roles</c>); one claim per role once read.</summary>
    public const string Roles = "roles";
}
