using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Redis;
using Platform.Testing;
using StackExchange.Redis;

namespace Platform.Libraries.Tests;

[Collection(DataTierCollection.Name)]
public sealed class RedisConnectionTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly string prefix = "test:" + Guid.NewGuid().ToString("N") + ":";
    private RedisConnection redis = null!;

    public Task InitializeAsync()
    {
        redis = RedisConnection.Connect(fixture.Tier.RedisConnectionString, "redis-tests", NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.Redis);
        redis.Dispose();
    }

    [Fact]
    public async Task Get_set_incr_and_expire_work_against_the_real_server()
    {
        var db = redis.Database;
        Assert.True(await db.StringSetAsync(prefix + "name", "ada"));
        Assert.Equal("ada", (string?)await db.StringGetAsync(prefix + "name"));
        Assert.True((await db.StringGetAsync(prefix + "missing")).IsNull);

        Assert.Equal(1, await db.StringIncrementAsync(prefix + "counter"));
        Assert.Equal(11, await db.StringIncrementAsync(prefix + "counter", 10));

        Assert.True(await db.KeyExpireAsync(prefix + "counter", TimeSpan.FromMilliseconds(300)));
        var ttl = await db.KeyTimeToLiveAsync(prefix + "counter");
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(300));
        await Poll.UntilAsync(async () => !await db.KeyExistsAsync(prefix + "counter"), TimeSpan.FromSeconds(5), "the key to expire");
    }

    [Fact]
    public async Task Lua_scripts_run_atomically_on_the_server()
    {
        const string incrementWithCap = """
            local current = tonumber(redis.call('GET', KEYS[1]) or '0')
            if current >= tonumber(ARGV[1]) then return -1 end
            return redis.call('INCR', KEYS[1])
            """;
        var key = (RedisKey)(prefix + "capped");

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            redis.Database.ScriptEvaluateAsync(incrementWithCap, [key], [5])));

        Assert.Equal(5, results.Count(r => (long)r > 0));
        Assert.Equal(15, results.Count(r => (long)r == -1));
        Assert.Equal(5, (long)await redis.Database.StringGetAsync(key));
    }

    [Fact]
    public async Task Published_messages_reach_subscribers()
    {
        var channel = RedisChannel.Literal(prefix + "events");
        var received = Channel.CreateUnbounded<string>();
        await redis.Subscriber.SubscribeAsync(channel, (_, message) => received.Writer.TryWrite(message!));

        await redis.Subscriber.PublishAsync(channel, "revoked:42");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal("revoked:42", await received.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task Sixty_four_concurrent_callers_complete_without_timeouts()
    {
        var key = (RedisKey)(prefix + "concurrent");
        var callers = Enumerable.Range(0, 64).Select(async caller =>
        {
            for (var i = 0; i < 200; i++)
            {
                await redis.Database.StringIncrementAsync(key);
                await redis.Database.StringGetAsync(key);
            }
        });

        await Task.WhenAll(callers);

        Assert.Equal(64 * 200, (long)await redis.Database.StringGetAsync(key));
    }

    /// <summary>
    /// A Redis that hangs keeps its connections open, and the client would not give them up for a minute or more:
    /// every command waited out the 2 s timeout meanwhile. Unanswered pings now count as lost within seconds, so
    /// callers that ask <see cref="IRedisConnection.IsConnected"/> fall back, and an answered one as restored.
    /// </summary>
    [Fact]
    public async Task A_hung_server_counts_as_lost_within_seconds_and_as_restored_when_it_answers()
    {
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.Lost += (_, _) => lost.TrySetResult();
        redis.Restored += (_, _) => restored.TrySetResult();
        await Poll.UntilAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(10), "the connection");

        using (DataTierProcesses.Freeze(fixture.Tier, DataTier.Redis, "redis-server"))
        {
            await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(redis.IsConnected);
            Assert.False(restored.Task.IsCompleted);
        }

        await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(redis.IsConnected);
        Assert.True(await redis.Database.StringSetAsync(prefix + "after-hang", "back"));
        Assert.Equal("back", (string?)await redis.Database.StringGetAsync(prefix + "after-hang"));
    }

    [Fact]
    public async Task After_a_server_restart_commands_and_subscriptions_come_back()
    {
        var channel = RedisChannel.Literal(prefix + "after-restart");
        var received = Channel.CreateUnbounded<string>();
        await redis.Subscriber.SubscribeAsync(channel, (_, message) => received.Writer.TryWrite(message!));
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.Restored += (_, _) => restored.TrySetResult();

        await fixture.Tier.DownAsync(DataTier.Redis);
        var failure = await Record.ExceptionAsync(() => redis.Database.StringGetAsync(prefix + "x"));
        Assert.IsAssignableFrom<RedisException>(failure);

        await fixture.Tier.UpAsync(DataTier.Redis);
        await Poll.UntilAsync(async () => (await redis.Database.StringSetAsync(prefix + "x", "back")), TimeSpan.FromSeconds(30), "Redis to accept commands again");
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await Poll.UntilAsync(async () => await redis.Subscriber.PublishAsync(channel, "hello") > 0, TimeSpan.FromSeconds(10), "the subscription to be re-established");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal("hello", await received.Reader.ReadAsync(timeout.Token));
    }
}
