using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Auth.Tokens;

/// <summary>
/// Opaque tokens — refresh tokens, password-reset and e-mail verification tokens: 256 random bits, base64url; only
/// their SHA-256 is stored, so a copy of the database hands out no usable token.
/// </summary>
public static class OpaqueTokens
{
    private const int TokenBytes = 32;

    public static (string Token, byte[] Hash) Create()
    {
        var bytes = RandomNumberGenerator.GetBytes(TokenBytes);
        return (Base64UrlEncoder.Encode(bytes), SHA256.HashData(bytes));
    }

    /// <summary>The stored hash of a presented token, or null when it cannot be one of ours.</summary>
    public static byte[]? HashOf(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length != 43)
        {
            return null;
        }
        try
        {
            var bytes = Base64UrlEncoder.DecodeBytes(token);
            return bytes.Length == TokenBytes ? SHA256.HashData(bytes) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
