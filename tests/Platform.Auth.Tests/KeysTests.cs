extern alias OperatorProject;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Extensions.DependencyInjection;
using Platform.Auth.Keys;
using OperatorProject::Platform.Operator.Keys;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class KeysTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private AuthHost host = null!;
    private AuthApiClient api = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_keys");
        api = new AuthApiClient(host.CreateRealClient());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_jwks_publishes_public_keys_only_with_a_cache_lifetime()
    {
        using var response = await api.Http.GetAsync("/.well-known/jwks.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.CacheControl?.MaxAge);
        var key = Assert.Single((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _), "the private part must never be published");
    }

    [Fact]
    public async Task Openid_configuration_names_the_issuer_and_the_jwks()
    {
        var metadata = await api.Http.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        Assert.Equal(AuthHost.Issuer, metadata.GetProperty("issuer").GetString());
        Assert.Equal(AuthHost.Issuer + "/.well-known/jwks.json", metadata.GetProperty("jwks_uri").GetString());
    }

    [Fact]
    public async Task A_keyset_change_is_picked_up_next_key_published_at_once_and_signing_switches_at_activation()
    {
        var current = SigningKeyFactory.CreateEs256(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(-5));
        await using var rotating = await AuthHost.StartAsync(fixture.Tier, "auth_keys", await TestKeysets.CreateAsync(current));
        var client = new AuthApiClient(rotating.CreateRealClient());
        var (email, before) = await client.NewUserAsync();
        Assert.Equal(current.Kid, new JsonWebToken(before.AccessToken).Kid);

        var next = SigningKeyFactory.CreateEs256(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(4));
        await TestKeysets.WriteAsync(rotating.KeysDirectory, 2, current, next);

        var status = await Poll.UntilAsync(() => client.Http.GetFromJsonAsync<JsonElement>("/internal/keyset"),
            s => s.GetProperty("version").GetInt64() == 2, TimeSpan.FromSeconds(5), "auth to load keyset version 2");
        Assert.Equal(current.Kid, status.GetProperty("activeKid").GetString());
        var published = (await client.Http.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json")).GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()).ToList();
        Assert.Equal([current.Kid, next.Kid], published);

        var after = await Poll.UntilAsync(() => client.LoginOkAsync(email), t => new JsonWebToken(t.AccessToken).Kid == next.Kid,
            TimeSpan.FromSeconds(10), "signing to switch to the next key at its activation time");
        Assert.True(new JsonWebToken(after.AccessToken).IssuedAt >= next.ActivatesAt.UtcDateTime.AddSeconds(-1));
    }

    [Fact]
    public async Task A_keyset_that_does_not_parse_leaves_the_last_good_one_in_place()
    {
        await using var broken = await AuthHost.StartAsync(fixture.Tier, "auth_keys", await TestKeysets.CreateAsync());
        var client = new AuthApiClient(broken.CreateRealClient());
        var keys = broken.Services.GetRequiredService<KeysetProvider>();
        var loaded = keys.Current;

        await File.WriteAllTextAsync(Path.Combine(broken.KeysDirectory, "keyset.json"), "{ \"version\": 99, \"keys\": [ {");

        Assert.False(keys.Reload());
        Assert.Same(loaded, keys.Current);
        using var ready = await client.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await client.NewUserAsync();
    }

    [Fact]
    public async Task Without_an_active_key_auth_is_not_ready_and_login_is_503()
    {
        var future = DateTimeOffset.UtcNow.AddHours(1);
        await using var keyless = await AuthHost.StartAsync(fixture.Tier, "auth_keys", await TestKeysets.CreateAsync(SigningKeyFactory.CreateEs256(DateTimeOffset.UtcNow, future)));
        var client = new AuthApiClient(keyless.CreateRealClient());
        var email = AuthApiClient.NewEmail();
        (await client.RegisterAsync(email)).Dispose();

        using var ready = await client.Http.GetAsync("/readyz");
        using var login = await client.LoginAsync(email);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await AuthApiClient.ProblemAsync(login, HttpStatusCode.ServiceUnavailable, AuthProblems.SigningKeyUnavailable);
    }
}
