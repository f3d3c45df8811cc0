using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.Auth.Keys;
using Platform.Authentication;

namespace Platform.Auth.Tokens;

public sealed record IssuedAccessToken(string Token, DateTimeOffset ExpiresAt, TimeSpan Lifetime);

/// <summary>Signs access tokens with the key that is active now (docs/architecture.md §3.1, §4.2).</summary>
public sealed class AccessTokenIssuer(KeysetProvider keys, IOptions<TokenOptions> options, TimeProvider clock)
{
    private readonly JsonWebTokenHandler handler = new() { SetDefaultTimesOnTokenCreation = false };

    public bool CanIssue => keys.Current.ActiveAt(clock.GetUtcNow()) is not null;

    /// <summary>
    /// Null when no key is active (an empty or not-yet-active keyset): auth cannot sign then. The token expires at the
    /// configured lifetime or at its session's absolute end, whichever is sooner, so an ended session leaves no valid token behind. The roles travel
    /// as a short array (<c>["user"]</c>) and <c>email_verified</c> as a boolean (OpenID Connect's claim), so services decide on them without asking auth.
    /// </summary>
    public IssuedAccessToken? Issue(Guid userId, Guid sessionId, string email, bool emailVerified, IReadOnlyCollection<string> roles, DateTimeOffset sessionEndsAt)
    {
        var now = clock.GetUtcNow();
        if (keys.Current.ActiveAt(now) is not { } key)
        {
            return null;
        }
        var settings = options.Value;
        var expires = now + settings.AccessTokenLifetime < sessionEndsAt ? now + settings.AccessTokenLifetime : sessionEndsAt;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = key.SigningCredentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId.ToString(),
                ["sid"] = sessionId.ToString(),
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                [JwtRegisteredClaimNames.Email] = email,
                ["email_verified"] = emailVerified,
                [PlatformClaims.Roles] = roles,
            },
        });
        return new IssuedAccessToken(token, expires, expires - now);
    }
}
