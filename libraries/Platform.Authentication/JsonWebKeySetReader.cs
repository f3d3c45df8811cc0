using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>
/// Turns a JWK set (RFC 7517) into verification keys: P-256 EC keys for ES256 and RSA keys of at least
/// 2048 bits for RS256/PS256. Anything else — encryption keys, other curves, keys without a kid, private
/// members — is left out rather than failing the whole set, so one odd key cannot lock every token out.
/// </summary>
internal static class JsonWebKeySetReader
{
    private const int MinimumRsaBits = 2048;

    public sealed record Result(IReadOnlyList<SecurityKey> Keys, IReadOnlyList<string> Ignored);

    /// <exception cref="JsonException">The document is not a JWK set.</exception>
    public static Result Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("keys", out var keys)
            || keys.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("A JWK set is an object with a \"keys\" array.");
        }

        var accepted = new List<SecurityKey>();
        var ignored = new List<string>();
        foreach (var jwk in keys.EnumerateArray())
        {
            var key = jwk.ValueKind == JsonValueKind.Object ? TryConvert(jwk) : null;
            if (key is null)
            {
                ignored.Add(jwk.ValueKind == JsonValueKind.Object ? Member(jwk, "kid") ?? "(no kid)" : "(not an object)");
            }
            else
            {
                accepted.Add(key);
            }
        }
        return new Result(accepted, ignored);
    }

    private static SecurityKey? TryConvert(JsonElement jwk)
    {
        var kid = Member(jwk, "kid");
        var use = Member(jwk, "use");
        if (string.IsNullOrEmpty(kid) || (use is not null && use != "sig") || jwk.TryGetProperty("d", out _))
        {
            return null;
        }
        try
        {
            return Member(jwk, "kty") switch
            {
                "EC" => Member(jwk, "crv") == "P-256" ? EcKey(jwk, kid) : null,
                "RSA" => RsaKey(jwk, kid),
                _ => null,
            };
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return null; // a coordinate that is not base64url or not on the curve
        }
    }

    // The key objects are never disposed: validations running on another thread may still hold an old key
    // after a refresh, and a key set changes only a few times a day.
    private static ECDsaSecurityKey? EcKey(JsonElement jwk, string kid)
    {
        var x = Bytes(jwk, "x");
        var y = Bytes(jwk, "y");
        if (x is not { Length: 32 } || y is not { Length: 32 })
        {
            return null;
        }
        var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
        return new ECDsaSecurityKey(ecdsa) { KeyId = kid };
    }

    private static RsaSecurityKey? RsaKey(JsonElement jwk, string kid)
    {
        var modulus = Bytes(jwk, "n");
        var exponent = Bytes(jwk, "e");
        if (modulus is null || exponent is null || modulus.Length * 8 < MinimumRsaBits)
        {
            return null;
        }
        var rsa = RSA.Create(new RSAParameters { Modulus = modulus, Exponent = exponent });
        return new RsaSecurityKey(rsa) { KeyId = kid };
    }

    private static string? Member(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Bytes(JsonElement jwk, string name) =>
        Member(jwk, name) is { } encoded ? Base64UrlEncoder.DecodeBytes(encoded) : null;
}
