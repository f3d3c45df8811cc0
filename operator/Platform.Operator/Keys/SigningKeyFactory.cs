using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Contracts.Keys;

namespace Platform.Operator.Keys;

/// <summary>Makes the private keys of a keyset: ES256 by default, RS256 and PS256 on request.</summary>
public static class SigningKeyFactory
{
    public const string Es256 = "ES256";
    public const string Rs256 = "RS256";
    public const string Ps256 = "PS256";

    public static readonly IReadOnlyList<string> Algorithms = [Es256, Rs256, Ps256];

    public static KeysetKey Create(string algorithm, DateTimeOffset now, DateTimeOffset activatesAt) => algorithm switch
    {
        Es256 => CreateEs256(now, activatesAt),
        Rs256 or Ps256 => CreateRsa(algorithm, now, activatesAt),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Supported: ES256, RS256, PS256."),
    };

    public static KeysetKey CreateEs256(DateTimeOffset now, DateTimeOffset activatesAt)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64Url(parameters.Q.X!),
            ["y"] = Base64Url(parameters.Q.Y!),
            ["d"] = Base64Url(parameters.D!),
        };
        CryptographicOperations.ZeroMemory(parameters.D);
        return Key(Es256, now, activatesAt, jwk);
    }

    private static KeysetKey CreateRsa(string algorithm, DateTimeOffset now, DateTimeOffset activatesAt)
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: true);
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["n"] = Base64Url(parameters.Modulus!),
            ["e"] = Base64Url(parameters.Exponent!),
            ["d"] = Base64Url(parameters.D!),
            ["p"] = Base64Url(parameters.P!),
            ["q"] = Base64Url(parameters.Q!),
            ["dp"] = Base64Url(parameters.DP!),
            ["dq"] = Base64Url(parameters.DQ!),
            ["qi"] = Base64Url(parameters.InverseQ!),
        };
        foreach (var secret in new[] { parameters.D, parameters.P, parameters.Q, parameters.DP, parameters.DQ, parameters.InverseQ })
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        return Key(algorithm, now, activatesAt, jwk);
    }

    /// <summary>
    /// The kid starts with the creation time so kids sort in creation order, and ends with random bits so two
    /// keys made in the same second still differ.
    /// </summary>
    private static KeysetKey Key(string algorithm, DateTimeOffset now, DateTimeOffset activatesAt, Dictionary<string, string> jwk)
    {
        var kid = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        jwk["kid"] = kid;
        return new KeysetKey(kid, algorithm, now, activatesAt, RetiresAt: null, ExpiresAt: null, JsonSerializer.SerializeToElement(jwk));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
