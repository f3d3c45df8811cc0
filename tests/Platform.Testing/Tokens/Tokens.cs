using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Testing;

/// <summary>What goes into an access token; <see cref="Valid"/> is one the protected app accepts, tests vary one thing with <c>with</c>.</summary>
public sealed record TokenSpec(Guid UserId, Guid? SessionId, string Issuer, string Audience, DateTime NotBefore, DateTime Expires)
{
    public const string TrustedIssuer = "https://auth.platform.test";
    public const string PlatformAudience = "platform";

    public string Email => $"user-{UserId:N}@example.test";

    public static TokenSpec Valid() => new(Guid.NewGuid(), Guid.NewGuid(), TrustedIssuer, PlatformAudience,
        DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10));
}

/// <summary>Mints tokens the way the auth service does, and the forgeries the attack tests need.</summary>
public static class Tokens
{
    private static readonly JsonWebTokenHandler Handler = new();

    public static string Sign(TokenSpec spec, TestSigningKey key) => Sign(spec, key.Credentials);

    public static string Sign(TokenSpec spec, SigningCredentials credentials)
    {
        var claims = new Dictionary<string, object>
        {
            ["sub"] = spec.UserId.ToString(),
            ["email"] = spec.Email,
            ["jti"] = Guid.NewGuid().ToString(),
        };
        if (spec.SessionId is { } sessionId)
        {
            claims["sid"] = sessionId.ToString();
        }
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = spec.Issuer,
            Audience = spec.Audience,
            Claims = claims,
            IssuedAt = spec.NotBefore,
            NotBefore = spec.NotBefore,
            Expires = spec.Expires,
            SigningCredentials = credentials,
        });
    }

    /// <summary>A token that claims to need no signature: header <c>alg: none</c> and an empty signature.</summary>
    public static string AlgNone(TokenSpec spec, string kid)
    {
        var header = $$"""{"alg":"none","typ":"JWT","kid":"{{kid}}"}""";
        var signed = Sign(spec, TestSigningKey.Es256(kid));
        return Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(header)) + "." + signed.Split('.')[1] + ".";
    }

    /// <summary>A valid token whose payload was swapped for another one after signing.</summary>
    public static string WithPayloadOf(string token, string other)
    {
        var parts = token.Split('.');
        return parts[0] + "." + other.Split('.')[1] + "." + parts[2];
    }

    public static ClaimsIdentity Identity(TokenSpec spec) => new(
        [new Claim("sub", spec.UserId.ToString()), new Claim("sid", spec.SessionId.ToString() ?? "")], "Bearer", "sub", "role");
}
