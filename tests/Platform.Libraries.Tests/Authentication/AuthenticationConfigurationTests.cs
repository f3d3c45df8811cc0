using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Platform.Authentication;
using Platform.Redis;

using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>The Auth section is checked when the service starts, and the key source is the service's to replace.</summary>
[Collection(DataTierCollection.Name)]
public sealed class AuthenticationConfigurationTests(DataTierFixture fixture)
{
    [Fact]
    public async Task A_service_without_a_jwks_uri_or_its_own_key_source_fails_to_start()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new() { ["Auth:Issuer"] = TokenSpec.TrustedIssuer }));

        Assert.Contains("Auth:JwksUri", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_without_an_issuer_fails_to_start()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new() { ["Auth:JwksUri"] = "http://127.0.0.1:1/jwks.json" }));

        Assert.Contains("Issuer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_with_its_own_key_source_needs_no_jwks_uri()
    {
        var key = TestSigningKey.Es256();
        await using var app = await StartAsync(new() { ["Auth:Issuer"] = TokenSpec.TrustedIssuer },
            services => services.AddSingleton<ISigningKeySource>(new FixedKeys(key.Key)));

        using var response = await app.GetWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task<TestApp> StartAsync(Dictionary<string, string> settings, Action<IServiceCollection>? services = null) =>
        TestApp.StartAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:Redis"] = fixture.Tier.RedisConnectionString;
            foreach (var (name, value) in settings)
            {
                builder.Configuration[name] = value;
            }
            builder.AddPlatformRedis();
            builder.AddPlatformAuthentication();
            services?.Invoke(builder.Services);
        },
        map: web => web.MapGet(ProtectedApp.WhoAmI, () => "ok").RequireAuthorization());

    /// <summary>What the auth service does: keys from its own keyset instead of a JWKS fetch.</summary>
    private sealed class FixedKeys(SecurityKey key) : ISigningKeySource
    {
        private readonly IReadOnlyList<SecurityKey> keys = [key];

        public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken) => ValueTask.FromResult(keys);

        public ValueTask<IReadOnlyList<SecurityKey>> RefreshAsync(CancellationToken cancellationToken) => ValueTask.FromResult(keys);
    }
}
