using System.Text.Json;
using Platform.Contracts.Keys;
using Platform.Testing;

namespace Platform.Reliability.Tests.Security;

/// <summary>
/// The forgeries of the gateway's JWT attack matrix (tests/Platform.Gateway.Tests/JwtAttackTests.cs covers the
/// gateway and tasks) sent straight to auth and files, which must refuse them on their own: defence in depth,
/// in case anything reaches a service without passing the gateway. A token minted with the real active key is
/// the control.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class ServiceJwtAttackTests(ReliabilityPlatform platform)
{
    private static readonly string[] Attacks =
        ["no token", "alg none", "tampered payload", "foreign key under the real kid", "unknown kid", "expired", "not yet valid", "wrong issuer", "wrong audience"];

    private static readonly (string Service, string Path)[] Targets = [("auth", "/api/auth/sessions"), ("files", "/api/files"), ("gateway", "/api/auth/verify")];

    [Fact]
    [Trait("Category", "Drill")]
    public async Task Auth_and_files_refuse_every_forged_token_on_their_own()
    {
        var user = await platform.SignUpAsync("jwt");
        var rows = new List<IReadOnlyList<object>>();
        foreach (var attack in Attacks.Prepend("control: the real key"))
        {
            var token = Forge(attack, user);
            var row = new List<object> { attack };
            foreach (var (service, path) in Targets)
            {
                using var request = platform.Request(HttpMethod.Get, path, user.ClientAddress, token, platform.Services[service]);
                using var answer = await platform.Client.SendAsync(request);
                row.Add((int)answer.StatusCode);
            }
            rows.Add(row);
        }

        Report.Write("security", "jwt-services", $"""
            ### Forged tokens sent straight to the services (the gateway's own matrix is in Platform.Gateway.Tests)

            {Report.Table(["token", .. Targets.Select(t => $"{t.Service} {t.Path}")], rows)}
            """);
        Assert.All(rows[0].Skip(1), status => Assert.Equal(200, status));
        Assert.All(rows.Skip(1), row => Assert.All(row.Skip(1), status => Assert.Equal(401, status)));
    }

    private string? Forge(string attack, PlatformUser user)
    {
        var (kid, algorithm, jwk) = ActiveKey();
        var valid = new TokenSpec(user.Id, user.SessionId, platform.Issuer, TokenSpec.PlatformAudience, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10));
        string Mint(TokenSpec spec) => Tokens.Sign(spec, TestSigningKey.FromPrivateJwk(kid, algorithm, jwk.GetRawText()));
        return attack switch
        {
            "control: the real key" => Mint(valid),
            "no token" => null,
            "alg none" => Tokens.AlgNone(valid, kid),
            "tampered payload" => Tokens.WithPayloadOf(Mint(valid), Mint(valid with { UserId = Guid.NewGuid() })),
            "foreign key under the real kid" => Tokens.Sign(valid, TestSigningKey.Es256(kid)),
            "unknown kid" => Tokens.Sign(valid, TestSigningKey.Es256()),
            "expired" => Mint(valid with { NotBefore = DateTime.UtcNow.AddMinutes(-30), Expires = DateTime.UtcNow.AddMinutes(-10) }),
            "not yet valid" => Mint(valid with { NotBefore = DateTime.UtcNow.AddMinutes(10), Expires = DateTime.UtcNow.AddMinutes(20) }),
            "wrong issuer" => Mint(valid with { Issuer = "https://evil.example" }),
            "wrong audience" => Mint(valid with { Audience = "another-api" }),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };
    }

    private (string Kid, string Algorithm, JsonElement PrivateJwk) ActiveKey()
    {
        var keyset = JsonSerializer.Deserialize<Keyset>(File.ReadAllText(Path.Combine(platform.KeysDirectory, "keyset.json")), Keyset.JsonOptions)!;
        var active = keyset.Keys.Where(key => key.ActivatesAt <= DateTimeOffset.UtcNow).MaxBy(key => key.ActivatesAt)!;
        return (active.Kid, active.Alg, active.PrivateJwk);
    }
}
