using System.Net;
using Npgsql;
using Platform.Testing;

namespace Platform.Tasks.Tests;

/// <summary>
/// Reads route to the replica and through the Redis cache, yet a user always reads their own writes: with the
/// replica caught up, with its replay paused, while Redis is down and after it comes back, and without a replica.
/// </summary>
[Collection(TasksTierCollection.Name)]
public sealed class ConsistencyTests(TasksTierFixture fixture) : IAsyncLifetime
{
    private const int Rounds = 100;

    private TasksHost host = null!;

    public async Task InitializeAsync()
    {
        host = await TasksHost.StartAsync(fixture, "tasks_consistency");
        using var metrics = new HttpClient { BaseAddress = host.Address };
        await Poll.UntilAsync(() => metrics.GetStringAsync("/metrics"), text => text.Contains("db_replica_lag_seconds", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the replica to be measured");
    }

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.Redis, DataTier.Replica);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Write_then_read_100_times_is_never_stale()
    {
        await WriteThenReadAsync(host.NewUser(fixture));
    }

    [Fact]
    public async Task Write_then_read_is_never_stale_while_replica_replay_is_paused()
    {
        var user = host.NewUser(fixture);
        var task = await user.CreateOkAsync("before the pause");
        await using var replica = new NpgsqlConnection(fixture.Tier.PostgresReplica);
        await replica.OpenAsync();
        await ExecuteAsync(replica, "SELECT pg_wal_replay_pause()");
        try
        {
            await WriteThenReadAsync(user);
            Assert.Equal(task.Id, (await user.GetOkAsync(task.Id)).Id);
        }
        finally
        {
            await ExecuteAsync(replica, "SELECT pg_wal_replay_resume()");
        }
    }

    [Fact]
    public async Task Another_instance_of_the_service_reads_a_users_fresh_write_from_the_primary()
    {
        var user = host.NewUser(fixture);
        var task = await user.CreateOkAsync("old title");
        await using var second = await TasksHost.StartAsync(fixture, host.Database);
        var throughSecond = new TasksClient(new HttpClient { BaseAddress = second.Address }, user.UserId, fixture.Issuer.TokenFor(user.UserId));
        await using var replica = new NpgsqlConnection(fixture.Tier.PostgresReplica);
        await replica.OpenAsync();
        await ExecuteAsync(replica, "SELECT pg_wal_replay_pause()");
        try
        {
            for (var round = 1; round <= 20; round++)
            {
                using var changed = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", TasksClient.Json(new { title = $"round {round}" }));
                Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
                Assert.Equal($"round {round}", (await throughSecond.GetOkAsync(task.Id)).Title);
            }
        }
        finally
        {
            await ExecuteAsync(replica, "SELECT pg_wal_replay_resume()");
        }
    }

    [Fact]
    public async Task A_user_who_reads_often_is_answered_without_the_database_between_writes_and_still_reads_each_write()
    {
        await ReadOftenThenWriteAsync(host.NewUser(fixture));
    }

    /// <summary>
    /// With the replica stopped every read goes to the primary, whose answer is exact when read: the remembered generation
    /// must not depend on the replica then, or the whole read load asks the primary exactly when it is alone.
    /// </summary>
    [Fact]
    public async Task A_user_who_reads_often_is_answered_without_the_database_while_the_replica_is_stopped()
    {
        var user = host.NewUser(fixture);
        await fixture.Tier.DownAsync(DataTier.Replica);
        try
        {
            await ReadOftenThenWriteAsync(user);
            await WriteThenReadAsync(user, rounds: 20);
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.Replica);
        }
    }

    private async Task ReadOftenThenWriteAsync(TasksClient user)
    {
        var task = await user.CreateOkAsync("read often");
        using var metrics = new HttpClient { BaseAddress = host.Address };
        // Once the read-your-writes window has passed, a read takes the generation from the database and the reads
        // right after it are answered from the cache under the remembered generation.
        await Poll.UntilAsync(async () =>
        {
            await user.GetOkAsync(task.Id);
            var before = DatabaseReads(await metrics.GetStringAsync("/metrics"));
            for (var i = 0; i < 5; i++)
            {
                await user.GetOkAsync(task.Id);
            }
            return DatabaseReads(await metrics.GetStringAsync("/metrics")) == before;
        }, TimeSpan.FromSeconds(30), "five reads in a row that ask the database nothing");

        using var changed = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", TasksClient.Json(new { title = "written" }));
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("written", (await user.GetOkAsync(task.Id)).Title);
    }

    [Fact]
    public async Task A_read_asks_whether_its_user_wrote_recently_once_even_when_the_cache_misses()
    {
        // Each list read below asks with a limit not asked before: a miss in the cache, after a remembered generation
        // (the item read just before it) let it look there first. The read plan asks Redis once for both decisions.
        var user = host.NewUser(fixture);
        var task = await user.CreateOkAsync("asked once");
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.Tier.RedisConnectionString + ",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        using var metrics = new HttpClient { BaseAddress = host.Address };
        await Poll.UntilAsync(async () =>
        {
            await user.GetOkAsync(task.Id);
            var before = DatabaseReads(await metrics.GetStringAsync("/metrics"));
            await user.GetOkAsync(task.Id);
            return DatabaseReads(await metrics.GetStringAsync("/metrics")) == before;
        }, TimeSpan.FromSeconds(30), "a read answered from the cache under a remembered generation");
        var asked = new List<long>();
        for (var limit = 1; limit <= 20; limit++)
        {
            await user.GetOkAsync(task.Id);
            var before = ExistsCalls(await server.InfoAsync("commandstats"));
            await user.ListOkAsync($"?limit={limit}");
            asked.Add(ExistsCalls(await server.InfoAsync("commandstats")) - before);
        }
        Assert.All(asked, calls => Assert.InRange(calls, 0, 1));
        Assert.Contains(1, asked); // the question was asked at all: the count measures what it should
    }

    private static long ExistsCalls(IGrouping<string, KeyValuePair<string, string>>[] info) =>
        info.SelectMany(group => group).Where(pair => pair.Key == "cmdstat_exists")
            .Select(pair => long.Parse(pair.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Single();

    [Fact]
    public async Task Reads_skip_a_replica_that_lags_beyond_the_bound()
    {
        var writer = host.NewUser(fixture);
        var reader = host.NewUser(fixture);
        using var metrics = new HttpClient { BaseAddress = host.Address };
        await Poll.UntilAsync(async () => { await reader.ListOkAsync(); return Reads(await metrics.GetStringAsync("/metrics"), "replica") > 0; },
            TimeSpan.FromSeconds(30), "a read served by the replica");
        await using var replica = new NpgsqlConnection(fixture.Tier.PostgresReplica);
        await replica.OpenAsync();
        await ExecuteAsync(replica, "SELECT pg_wal_replay_pause()");
        try
        {
            await writer.CreateOkAsync("moves the primary on");
            await Poll.UntilAsync(() => metrics.GetStringAsync("/metrics"), text => ReplicaLag(text) > 2,
                TimeSpan.FromSeconds(30), "the replica lag to pass the 2 s bound");
            var before = await metrics.GetStringAsync("/metrics");

            for (var limit = 1; limit <= 10; limit++)
            {
                await reader.ListOkAsync($"?limit={limit}"); // a page not cached yet: each read asks the database
            }

            var after = await metrics.GetStringAsync("/metrics");
            Assert.Equal(Reads(before, "replica"), Reads(after, "replica"));
            Assert.True(Reads(after, "primary") >= Reads(before, "primary") + 10);
        }
        finally
        {
            await ExecuteAsync(replica, "SELECT pg_wal_replay_resume()");
        }
    }

    [Fact]
    public async Task Write_then_read_is_never_stale_while_redis_is_down_and_after_it_restarts()
    {
        var user = host.NewUser(fixture);
        var task = await user.CreateOkAsync("cached before the outage");
        await user.GetOkAsync(task.Id);
        await user.ListOkAsync();

        await fixture.Tier.DownAsync(DataTier.Redis);
        try
        {
            using var changed = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", """{"title":"changed during the outage"}""");
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal("changed during the outage", (await user.GetOkAsync(task.Id)).Title);
            await WriteThenReadAsync(user, rounds: 20);
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.Redis);
        }

        await Poll.UntilAsync(async () => (await new HttpClient { BaseAddress = host.Address }.GetAsync("/readyz")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(30), "the service to be ready again");
        Assert.Equal("changed during the outage", (await user.GetOkAsync(task.Id)).Title);
        Assert.Contains(task.Id, (await user.ListOkAsync("?limit=200")).Items.Select(t => t.Id));
        await WriteThenReadAsync(user);
    }

    /// <summary>
    /// A Redis that hangs with its connections open (SIGSTOP): once its pings go unanswered (seconds), reads and writes
    /// skip it. Before, every read waited out the client's 2 s timeout on the cache, and every write on its
    /// read-your-writes mark, until the client gave the connection up a minute or more later. Reads stay fresh throughout.
    /// </summary>
    [Fact]
    public async Task A_hung_redis_costs_reads_a_few_seconds_once_not_a_timeout_each()
    {
        var user = host.NewUser(fixture);
        var task = await user.CreateOkAsync("cached before the hang");
        using var probe = new HttpClient { BaseAddress = host.Address };
        await user.GetOkAsync(task.Id);
        var rounds = 0;

        async Task<TimeSpan> WriteThenReadTimedAsync()
        {
            var round = System.Diagnostics.Stopwatch.StartNew();
            var title = $"changed during the hang {++rounds}";
            using var changed = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", TasksClient.Json(new { title }));
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal(title, (await user.GetOkAsync(task.Id)).Title);
            return round.Elapsed;
        }

        using (DataTierProcesses.Freeze(fixture.Tier, DataTier.Redis, "redis-server"))
        {
            // Slow until three pings a second apart go unanswered; then fast, or the hang costs each request a timeout.
            await Poll.UntilAsync(WriteThenReadTimedAsync, took => took < TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15),
                "a write and read that no longer wait for Redis");
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < 5; i++)
            {
                var took = await WriteThenReadTimedAsync();
                slowest = took > slowest ? took : slowest;
            }
            Assert.True(slowest < TimeSpan.FromSeconds(1.5), $"the slowest write and read took {slowest.TotalSeconds:F1} s (the client's timeout is 2 s)");
        }
        await RedisReadiness.UntilAsync(probe, healthy: true);

        Assert.Equal($"changed during the hang {rounds}", (await user.GetOkAsync(task.Id)).Title);
        await WriteThenReadAsync(user, rounds: 10);
    }

    [Fact]
    public async Task Reads_keep_answering_from_the_primary_while_the_replica_is_stopped()
    {
        var user = host.NewUser(fixture);
        var tasks = new List<TaskView>();
        for (var i = 0; i < 3; i++)
        {
            tasks.Add(await user.CreateOkAsync($"task {i}"));
        }
        var reader = new TasksClient(user.Http, user.UserId, fixture.Issuer.TokenFor(user.UserId));

        await fixture.Tier.DownAsync(DataTier.Replica);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(tasks[i % 3].Id, (await reader.GetOkAsync(tasks[i % 3].Id)).Id);
                Assert.Equal(3, (await reader.ListOkAsync()).Items.Count);
            }
            await WriteThenReadAsync(user, rounds: 20);
        }
        finally
        {
            await fixture.Tier.UpAsync(DataTier.Replica);
        }
    }

    /// <summary>
    /// A replica that hangs without closing its connections (a frozen process, a network partition; here SIGSTOP on
    /// every process of the replica server): reads come from the primary within seconds. Before, the lag monitor's
    /// sample hung with the replica still marked usable, and each read routed there waited Npgsql's 30 s.
    /// </summary>
    [Fact]
    public async Task A_replica_that_hangs_costs_reads_seconds_not_half_a_minute()
    {
        using var metrics = new HttpClient { BaseAddress = host.Address };
        await Poll.UntilAsync(async () => { await host.NewUser(fixture).ListOkAsync(); return Reads(await metrics.GetStringAsync("/metrics"), "replica") > 0; },
            TimeSpan.FromSeconds(30), "a read served by the replica");
        using (DataTierProcesses.Freeze(fixture.Tier, DataTier.Replica, "postgres"))
        {
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < 5; i++)
            {
                var read = System.Diagnostics.Stopwatch.StartNew();
                Assert.Empty((await host.NewUser(fixture).ListOkAsync()).Items); // a new user: no cache, no remembered generation
                slowest = read.Elapsed > slowest ? read.Elapsed : slowest;
            }
            Assert.True(slowest < TimeSpan.FromSeconds(15), $"the slowest read took {slowest.TotalSeconds:F1} s");
        }
        await Poll.UntilAsync(async () => { await host.NewUser(fixture).ListOkAsync(); return true; }, TimeSpan.FromSeconds(30), "reads after the replica is back");
    }

    /// <summary>Each round changes a task and lists, then reads it back at once: every answer must show the change.</summary>
    private static async Task WriteThenReadAsync(TasksClient user, int rounds = Rounds)
    {
        var task = await user.CreateOkAsync("round 0");
        for (var round = 1; round <= rounds; round++)
        {
            var title = $"round {round}";
            using (var changed = await user.SendAsync(HttpMethod.Patch, $"/api/tasks/{task.Id}", TasksClient.Json(new { title })))
            {
                Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            }
            var read = await user.GetOkAsync(task.Id);
            Assert.Equal((title, round + 1), (read.Title, read.Version));
            var listed = (await user.ListOkAsync("?limit=200")).Items.Single(t => t.Id == task.Id);
            Assert.Equal(title, listed.Title);
        }
    }

    private static double Reads(string metrics, string target) => Sample(metrics, $"db_reads_total{{target=\"{target}\"}} ") ?? 0;

    private static double DatabaseReads(string metrics) => Reads(metrics, "primary") + Reads(metrics, "replica");

    private static double ReplicaLag(string metrics) => Sample(metrics, "db_replica_lag_seconds ") ?? 0;

    private static double? Sample(string metrics, string prefix) =>
        metrics.Split('\n').FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal)) is { } line
            ? double.Parse(line[prefix.Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
