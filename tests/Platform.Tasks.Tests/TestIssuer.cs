using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Tasks.Tests;

/// <summary>
/// Plays the auth service for the tasks service: signs ES256 access tokens with the platform's claims and serves
/// the public key at <c>/.well-known/jwks.json</c> on a real Kestrel port, so tasks validates them exactly as in
/// production (JWKS over HTTP), without the cost of registering and logging in hundreds of users.
/// </summary>
public sealed class TestIssuer : IAsyncDisposable
{
    public const string Issuer = "http://platform.test";
    public const string Audience = "platform";

    private static readonly JsonWebTokenHandler Handler = new();

    private readonly WebApplication app;
    private readonly ECDsaSecurityKey key;

    private TestIssuer(WebApplication app, ECDsaSecurityKey key, Uri jwksUri)
    {
        this.app = app;
        this.key = key;
        JwksUri = jwksUri;
    }

    public Uri JwksUri { get; }

    public static async Task<TestIssuer> StartAsync()
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = "tasks-tests-" + Guid.NewGuid().ToString("N")[..8];
        var q = ecdsa.ExportParameters(includePrivateParameters: false).Q;
        var jwk = new Dictionary<string, string>
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(q.X), ["y"] = Base64UrlEncoder.Encode(q.Y),
            ["kid"] = kid, ["alg"] = SecurityAlgorithms.EcdsaSha256, ["use"] = "sig",
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/.well-known/jwks.json", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=300";
            return Results.Json(new { keys = new[] { jwk } });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestIssuer(app, new ECDsaSecurityKey(ecdsa) { KeyId = kid }, new Uri(new Uri(address), "/.well-known/jwks.json"));
    }

    public string TokenFor(Guid userId)
    {
        var now = DateTime.UtcNow;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = userId.ToString(),
                ["sid"] = Guid.NewGuid().ToString(),
                ["jti"] = Guid.NewGuid().ToString(),
                ["email"] = $"user-{userId:N}@example.org",
            },
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
