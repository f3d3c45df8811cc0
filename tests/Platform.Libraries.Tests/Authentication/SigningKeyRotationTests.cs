using System.Net;
using System.Text.Json;

using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>docs/architecture.md §4.5: a rotation under load rejects no valid token, and the issuer is asked only as often as needed.</summary>
[Collection(DataTierCollection.Name)]
public sealed class SigningKeyRotationTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly TestSigningKey oldKey = TestSigningKey.Es256();
    private readonly TestSigningKey newKey = TestSigningKey.Es256();
    private JwksServer jwks = null!;
    private TestApp app = null!;

    public async Task InitializeAsync()
    {
        jwks = await JwksServer.StartAsync(oldKey);
        app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);
        Assert.Equal(200, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), oldKey))); // the old key set is cached now
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await jwks.DisposeAsync();
    }

    [Fact]
    public async Task A_token_signed_by_a_key_published_after_the_keys_were_cached_is_accepted_on_its_first_request()
    {
        jwks.Publish(newKey);

        Assert.Equal(200, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), newKey)));
        Assert.Equal(2, jwks.Fetches);
    }

    [Fact]
    public async Task Fifty_concurrent_first_requests_with_a_new_key_are_all_accepted_after_exactly_one_jwks_fetch()
    {
        jwks.Publish(newKey);
        var tokens = Enumerable.Range(0, 50).Select(_ => Tokens.Sign(TokenSpec.Valid(), newKey)).ToList();

        var statuses = await Task.WhenAll(tokens.Select(app.StatusWithTokenAsync));

        Assert.All(statuses, status => Assert.Equal(200, status));
        Assert.Equal(2, jwks.Fetches);
    }

    [Fact]
    public async Task A_flood_of_unknown_kids_makes_at_most_one_jwks_fetch()
    {
        var forgeries = Enumerable.Range(0, 20).Select(_ => Tokens.Sign(TokenSpec.Valid(), TestSigningKey.Es256())).ToList();

        var statuses = await Task.WhenAll(forgeries.Select(app.StatusWithTokenAsync));

        Assert.All(statuses, status => Assert.Equal(401, status));
        Assert.Equal(2, jwks.Fetches);
        Assert.Equal(20, await app.FailuresAsync("unknown_kid"));
    }

    [Fact]
    public async Task During_a_jwks_outage_the_cached_keys_keep_validating_even_after_a_failed_refetch()
    {
        jwks.Down = true;

        Assert.Equal(401, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), TestSigningKey.Es256()))); // forces a refetch, which fails
        Assert.Equal(2, jwks.Fetches);
        Assert.Equal(200, await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), oldKey)));
        Assert.Equal(1, await app.MetricAsync("auth_jwks_fetches_total", "result", "failure"));
    }
}

/// <summary>A service that has never been able to load keys cannot tell good tokens from bad: that is our outage, not the client's fault.</summary>
[Collection(DataTierCollection.Name)]
public sealed class SigningKeysUnavailableTests(DataTierFixture fixture)
{
    [Fact]
    public async Task Without_any_keys_since_start_a_token_gets_a_503_to_retry_not_a_401()
    {
        var key = TestSigningKey.Es256();
        await using var jwks = await JwksServer.StartAsync(key);
        jwks.Down = true;
        await using var app = await ProtectedApp.StartAsync(jwks, fixture.Tier.RedisConnectionString);

        using var response = await app.GetWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), key));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Platform.Hosting.Problems.ProblemTypes.ServiceUnavailable, problem.GetProperty("type").GetString());

        jwks.Down = false;
        await Platform.Testing.Poll.UntilAsync(async () => await app.StatusWithTokenAsync(Tokens.Sign(TokenSpec.Valid(), key)) == 200,
            TimeSpan.FromSeconds(10), "the keys to load once the issuer answers");
    }
}
