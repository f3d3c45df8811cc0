using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Authentication;
using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>How long the issuer's keys are trusted before asking again, on a clock the test moves.</summary>
public sealed class JwksSigningKeySourceTests : IAsyncLifetime
{
    private readonly ManualTimeProvider clock = new();
    private readonly TestSigningKey key = TestSigningKey.Es256();
    private JwksServer jwks = null!;
    private ServiceProvider services = null!;
    private JwksSigningKeySource source = null!;

    public async Task InitializeAsync()
    {
        jwks = await JwksServer.StartAsync(key);
        jwks.MaxAgeSeconds = 60;
        services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddHttpClient()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton(Options.Create(new AuthOptions { Issuer = TokenSpec.TrustedIssuer, JwksUri = jwks.JwksUri }))
            .AddSingleton<AuthenticationMetrics>()
            .AddSingleton<JwksSigningKeySource>()
            .BuildServiceProvider();
        source = services.GetRequiredService<JwksSigningKeySource>();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await jwks.DisposeAsync();
    }

    [Fact]
    public async Task Keys_are_served_from_memory_for_the_max_age_and_then_refetched_in_the_background()
    {
        var first = await source.GetKeysAsync(default);
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Same(first, await source.GetKeysAsync(default));
        Assert.Equal(1, jwks.Fetches);

        clock.Advance(TimeSpan.FromSeconds(2));
        jwks.Publish(TestSigningKey.Es256());

        Assert.Same(first, await source.GetKeysAsync(default)); // stale keys answer at once while the refetch runs
        var refreshed = await Poll.UntilAsync(async () => await source.GetKeysAsync(default), keys => keys.Count == 2, TimeSpan.FromSeconds(5), "the background refetch");
        Assert.Equal(2, jwks.Fetches);
        Assert.Equal(2, refreshed.Count);
    }

    [Fact]
    public async Task A_forced_refresh_is_sent_at_most_once_per_five_seconds()
    {
        await source.GetKeysAsync(default);

        await source.RefreshAsync(default);
        await source.RefreshAsync(default);
        clock.Advance(TimeSpan.FromSeconds(4.9));
        await source.RefreshAsync(default);
        Assert.Equal(2, jwks.Fetches);

        clock.Advance(TimeSpan.FromSeconds(0.2));
        await source.RefreshAsync(default);
        Assert.Equal(3, jwks.Fetches);
    }

    [Fact]
    public async Task A_failed_refetch_keeps_the_last_good_keys()
    {
        var good = await source.GetKeysAsync(default);
        jwks.Down = true;
        clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Same(good, await source.RefreshAsync(default));
        Assert.Same(good, await source.GetKeysAsync(default));
        Assert.Equal(2, jwks.Fetches);
    }

    [Fact]
    public async Task Without_keys_a_failed_fetch_is_reported_as_unavailable_and_retried_after_a_second()
    {
        jwks.Down = true;

        await Assert.ThrowsAsync<SigningKeysUnavailableException>(async () => await source.GetKeysAsync(default));
        await Assert.ThrowsAsync<SigningKeysUnavailableException>(async () => await source.GetKeysAsync(default));
        Assert.Equal(1, jwks.Fetches);

        jwks.Down = false;
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(await source.GetKeysAsync(default));
    }

    [Theory]
    [InlineData(null, 300)]
    [InlineData("max-age=120", 120)]
    [InlineData("max-age=1", 10)]
    [InlineData("max-age=86400", 3600)]
    [InlineData("no-store", 10)]
    [InlineData("public", 300)]
    public void The_issuers_max_age_is_kept_between_ten_seconds_and_an_hour(string? cacheControl, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds),
            JwksSigningKeySource.Lifetime(cacheControl is null ? null : CacheControlHeaderValue.Parse(cacheControl)));
}
