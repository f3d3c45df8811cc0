using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using Platform.Contracts.Keys;

namespace Platform.Auth.Keys;

/// <summary>A keyset entry turned into what JWT signing and the JWKS need.</summary>
public sealed class SigningKeyMaterial
{
    private SigningKeyMaterial(KeysetKey key, SecurityKey privateKey, JsonWebKey publicJwk)
    {
        Key = key;
        SigningCredentials = new SigningCredentials(privateKey, key.Alg);
        PublicJwk = publicJwk;
        ValidationKey = publicJwk;
    }

    public KeysetKey Key { get; }

    public string Kid => Key.Kid;

    public SigningCredentials SigningCredentials { get; }

    /// <summary>The public half, as published at /.well-known/jwks.json and used to validate.</summary>
    public JsonWebKey PublicJwk { get; }

    public SecurityKey ValidationKey { get; }

    public static SigningKeyMaterial From(KeysetKey key)
    {
        var jwk = key.PrivateJwk;
        return key.Alg switch
        {
            SecurityAlgorithms.EcdsaSha256 => FromEc(key, jwk),
            SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.RsaSsaPssSha256 => FromRsa(key, jwk),
            _ => throw new InvalidDataException($"Key {key.Kid} has unsupported algorithm {key.Alg}."),
        };
    }

    private static SigningKeyMaterial FromEc(KeysetKey key, JsonElement jwk)
    {
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64UrlEncoder.DecodeBytes(Required(jwk, "d")),
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(Required(jwk, "x")), Y = Base64UrlEncoder.DecodeBytes(Required(jwk, "y")) },
        };
        var ecdsa = ECDsa.Create(parameters);
        var publicJwk = new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Crv = JsonWebKeyECTypes.P256,
            X = Required(jwk, "x"),
            Y = Required(jwk, "y"),
            Kid = key.Kid,
            Alg = key.Alg,
            Use = JsonWebKeyUseNames.Sig,
        };
        return new SigningKeyMaterial(key, new ECDsaSecurityKey(ecdsa) { KeyId = key.Kid }, publicJwk);
    }

    private static SigningKeyMaterial FromRsa(KeysetKey key, JsonElement jwk)
    {
        var parameters = new RSAParameters
        {
            Modulus = Base64UrlEncoder.DecodeBytes(Required(jwk, "n")),
            Exponent = Base64UrlEncoder.DecodeBytes(Required(jwk, "e")),
            D = Base64UrlEncoder.DecodeBytes(Required(jwk, "d")),
            P = Base64UrlEncoder.DecodeBytes(Required(jwk, "p")),
            Q = Base64UrlEncoder.DecodeBytes(Required(jwk, "q")),
            DP = Base64UrlEncoder.DecodeBytes(Required(jwk, "dp")),
            DQ = Base64UrlEncoder.DecodeBytes(Required(jwk, "dq")),
            InverseQ = Base64UrlEncoder.DecodeBytes(Required(jwk, "qi")),
        };
        var rsa = RSA.Create(parameters);
        var publicJwk = new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.RSA,
            N = Required(jwk, "n"),
            E = Required(jwk, "e"),
            Kid = key.Kid,
            Alg = key.Alg,
            Use = JsonWebKeyUseNames.Sig,
        };
        return new SigningKeyMaterial(key, new RsaSecurityKey(rsa) { KeyId = key.Kid }, publicJwk);
    }

    private static string Required(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } text
            ? text
            : throw new InvalidDataException($"privateJwk lacks '{name}'.");
}
