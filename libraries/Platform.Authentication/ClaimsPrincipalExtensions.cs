using System.Security.Claims;

namespace Platform.Authentication;

/// <summary>
/// Who is calling, for endpoints that require an authenticated user. Validation guarantees that
/// <c>sub</c> and <c>sid</c> are UUIDs, so these throw only on an endpoint that forgot to require authorization.
/// </summary>
public static class ClaimsPrincipalExtensions
{
    public static Guid UserId(this ClaimsPrincipal user) => RequiredGuid(user, PlatformClaims.UserId);

    /// <summary>The session the token belongs to: the <c>{id}</c> of the sessions routes.</summary>
    public static Guid SessionId(this ClaimsPrincipal user) => RequiredGuid(user, PlatformClaims.SessionId);

    public static string? Email(this ClaimsPrincipal user) => user.FindFirst(PlatformClaims.Email)?.Value;

    private static Guid RequiredGuid(ClaimsPrincipal user, string claim) =>
        Guid.TryParse(user.FindFirst(claim)?.Value, out var id)
            ? id
            : throw new InvalidOperationException($"The request carries no '{claim}' claim: the endpoint must require authorization.");
}
