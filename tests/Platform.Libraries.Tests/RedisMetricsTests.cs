using Platform.Libraries.Tests.Messaging;
using Platform.Redis;
using Platform.Testing;

namespace Platform.Libraries.Tests;

/// <summary>
/// <c>platform_redis_available</c> on a service's /metrics follows the connection's own view: 1 while the process uses
/// Redis, 0 while it counts Redis as lost — stopped, or hung with its connections open — and falls back without it.
/// </summary>
[Collection(DataTierCollection.Name)]
public sealed class RedisMetricsTests(DataTierFixture fixture) : IAsyncLifetime
{
    private const string Available = "platform_redis_available";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync(builder =>
    {
        builder.Configuration["ConnectionStrings:Redis"] = fixture.Tier.RedisConnectionString;
        builder.AddPlatformRedis();
    });

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.Redis);
        await app.DisposeAsync();
    }

    [Fact]
    public async Task The_gauge_is_exported_from_the_first_scrape_before_anything_used_redis()
    {
        Assert.NotNull(await app.ReadMetricAsync(Available));
        await WaitForAvailable(1, "the connection");
    }

    [Fact]
    public async Task The_gauge_turns_0_while_redis_is_stopped_and_1_when_it_returns()
    {
        await WaitForAvailable(1, "the connection");

        await fixture.Tier.DownAsync(DataTier.Redis);
        await WaitForAvailable(0, "the stopped server to count as lost");

        await fixture.Tier.UpAsync(DataTier.Redis);
        await WaitForAvailable(1, "the connection to be restored");
    }

    [Fact]
    public async Task The_gauge_turns_0_while_redis_hangs_and_1_when_it_answers_again()
    {
        await WaitForAvailable(1, "the connection");

        using (DataTierProcesses.Freeze(fixture.Tier, DataTier.Redis, "redis-server"))
        {
            await WaitForAvailable(0, "the hung server to count as lost");
        }

        await WaitForAvailable(1, "the answering server to count as restored");
    }

    private async Task WaitForAvailable(double expected, string what) =>
        await Poll.UntilAsync(() => app.ReadMetricAsync(Available), value => value == expected, Patience, $"{Available} {expected}: {what}");
}
