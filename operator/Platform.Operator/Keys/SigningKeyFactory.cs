using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.ServiceDefaults.Keys;

namespace Platform.Operator.Keys;

public static class SigningKeyFactory
{
    /// <summary>
    /// A new ES256 key. Its kid starts with the creation time so kids sort in creation order, and ends with
    /// random bits so two keys made in the same second still differ.
    /// </summary>
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
        var kid = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        jwk["kid"] = kid;
        return new KeysetKey(kid, "ES256", now, activatesAt, RetiresAt: null, ExpiresAt: null, JsonSerializer.SerializeToElement(jwk));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
