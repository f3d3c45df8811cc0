using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Testing;

/// <summary>A key pair the tests sign with, as the auth service would, and its public JWK.</summary>
public sealed class TestSigningKey
{
    private readonly Func<Dictionary<string, string>> publicJwk;

    private TestSigningKey(string kid, string algorithm, AsymmetricSecurityKey key, Func<Dictionary<string, string>> publicJwk)
    {
        Kid = kid;
        Algorithm = algorithm;
        Key = key;
        this.publicJwk = publicJwk;
    }

    public string Kid { get; }

    public string Algorithm { get; }

    public AsymmetricSecurityKey Key { get; }

    public SigningCredentials Credentials => new(Key, Algorithm);

    public static TestSigningKey Es256(string? kid = null)
    {
        kid ??= NewKid();
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = ecdsa.ExportParameters(includePrivateParameters: false).Q;
        return new TestSigningKey(kid, SecurityAlgorithms.EcdsaSha256, new ECDsaSecurityKey(ecdsa) { KeyId = kid }, () => new()
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(q.X), ["y"] = Base64UrlEncoder.Encode(q.Y),
            ["kid"] = kid, ["alg"] = SecurityAlgorithms.EcdsaSha256, ["use"] = "sig",
        });
    }

    /// <summary>An RSA key for RS256 or PS256.</summary>
    public static TestSigningKey Rsa(string algorithm, string? kid = null)
    {
        kid ??= NewKid();
        var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new TestSigningKey(kid, algorithm, new RsaSecurityKey(rsa) { KeyId = kid }, () => new()
        {
            ["kty"] = "RSA", ["n"] = Base64UrlEncoder.Encode(parameters.Modulus), ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            ["kid"] = kid, ["alg"] = algorithm, ["use"] = "sig",
        });
    }

    /// <summary>A key of a real keyset (a private JWK auth signs with), to mint tokens a running platform accepts.</summary>
    public static SigningCredentials FromPrivateJwk(string kid, string algorithm, string privateJwkJson) =>
        new(new JsonWebKey(privateJwkJson) { KeyId = kid }, algorithm);

    public Dictionary<string, string> PublicJwk() => publicJwk();

    /// <summary>The public key as PEM text: what an attacker uses as an HMAC secret in the key-confusion attack.</summary>
    public byte[] PublicKeyPem() => System.Text.Encoding.UTF8.GetBytes(Key switch
    {
        ECDsaSecurityKey ec => ec.ECDsa.ExportSubjectPublicKeyInfoPem(),
        RsaSecurityKey rsa => rsa.Rsa.ExportSubjectPublicKeyInfoPem(),
        _ => throw new NotSupportedException(),
    });

    private static string NewKid() => "test-" + Guid.NewGuid().ToString("N")[..12];
}
