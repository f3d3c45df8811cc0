using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using Platform.Contracts.Keys;
using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>
/// Forged and broken tokens are refused at the edge and, sent straight to a service, by the service too
/// (defence in depth); a token minted with the platform's real active key is the control that passes both.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class JwtAttackTests(GatewayPlatform platform)
{
    public static TheoryData<string, string> Attacks()
    {
        var data = new TheoryData<string, string>();
        foreach (var attack in new[]
                 {
                     "no token", "garbage", "alg none", "HS256 keyed with the public key", "tampered payload", "foreign key under the real kid",
                     "unknown kid", "expired", "not yet valid", "wrong issuer", "wrong audience",
                 })
        {
            data.Add(attack, "gateway");
            data.Add(attack, "tasks");
        }
        return data;
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("tasks")]
    public async Task A_token_signed_with_the_platforms_active_key_is_accepted(string target)
    {
        using var answer = await GetTasksAsync(target, Mint(Valid()));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task An_attack_token_is_refused_with_401_and_a_challenge(string attack, string target)
    {
        using var answer = await GetTasksAsync(target, Forge(attack));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.StartsWith("Bearer", answer.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
    }

    private async Task<HttpResponseMessage> GetTasksAsync(string target, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform.Services[target], "/api/tasks"));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        return await platform.Client.SendAsync(request);
    }

    private string? Forge(string attack)
    {
        var (kid, _, jwk) = ActiveKey();
        return attack switch
        {
            "no token" => null,
            "garbage" => "not.a-jwt.at-all",
            "alg none" => Tokens.AlgNone(Valid(), kid),
            "HS256 keyed with the public key" => Tokens.Sign(Valid(), new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(PublicKeyPem(jwk))) { KeyId = kid }, SecurityAlgorithms.HmacSha256)),
            "tampered payload" => Tokens.WithPayloadOf(Mint(Valid()), Mint(Valid())),
            "foreign key under the real kid" => Tokens.Sign(Valid(), TestSigningKey.Es256(kid)),
            "unknown kid" => Tokens.Sign(Valid(), TestSigningKey.Es256()),
            "expired" => Mint(Valid() with { NotBefore = DateTime.UtcNow.AddMinutes(-30), Expires = DateTime.UtcNow.AddMinutes(-10) }),
            "not yet valid" => Mint(Valid() with { NotBefore = DateTime.UtcNow.AddMinutes(10), Expires = DateTime.UtcNow.AddMinutes(20) }),
            "wrong issuer" => Mint(Valid() with { Issuer = "https://evil.example" }),
            "wrong audience" => Mint(Valid() with { Audience = "another-api" }),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };
    }

    private TokenSpec Valid() => TokenSpec.Valid() with { Issuer = platform.Issuer, Audience = "platform" };

    private string Mint(TokenSpec spec)
    {
        var (kid, algorithm, jwk) = ActiveKey();
        return Tokens.Sign(spec, TestSigningKey.FromPrivateJwk(kid, algorithm, jwk.GetRawText()));
    }

    /// <summary>The key auth signs with right now, from the keyset file make run created.</summary>
    private (string Kid, string Algorithm, JsonElement PrivateJwk) ActiveKey()
    {
        var keyset = JsonSerializer.Deserialize<Keyset>(File.ReadAllText(Path.Combine(platform.KeysDirectory, "keyset.json")), Keyset.JsonOptions)!;
        var active = keyset.Keys.Where(key => key.ActivatesAt <= DateTimeOffset.UtcNow).MaxBy(key => key.ActivatesAt)!;
        return (active.Kid, active.Alg, active.PrivateJwk);
    }

    private static string PublicKeyPem(JsonElement jwk)
    {
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("x").GetString()),
                Y = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("y").GetString()),
            },
        });
        return ecdsa.ExportSubjectPublicKeyInfoPem();
    }
}
