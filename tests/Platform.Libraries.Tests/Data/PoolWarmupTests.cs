using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Data;

namespace Platform.Libraries.Tests.Data;

/// <summary>The pool opened at start, against a real PostgreSQL: its backends counted in pg_stat_activity.</summary>
[Collection(DataTierCollection.Name)]
public sealed class PoolWarmupTests(DataTierFixture fixture)
{
    [Fact]
    public async Task A_fixed_pool_is_opened_at_start_and_kept_for_the_requests_that_follow()
    {
        var (dataSource, application) = await WarmedUpAsync(minimum: 4, maximum: 4);
        await using var _ = dataSource;

        var backends = await BackendsAsync(application);
        Assert.Equal(4, backends.Count);
        // Requests afterwards are served by those backends: no new one is started for them.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT pg_sleep(0.05)", connection);
            await command.ExecuteNonQueryAsync();
        }));
        Assert.Equal(backends, await BackendsAsync(application));
    }

    [Fact]
    public async Task A_pool_without_a_minimum_opens_nothing_ahead_of_requests()
    {
        var (dataSource, application) = await WarmedUpAsync(minimum: 0, maximum: 4);
        await using var _ = dataSource;

        Assert.Empty(await BackendsAsync(application));
    }

    [Fact]
    public async Task A_server_that_does_not_answer_leaves_the_pool_to_open_later_without_failing_the_start()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Port = 1, MinPoolSize = 2, MaxPoolSize = 2, Timeout = 1 };
        await using var dataSource = NpgsqlDataSource.Create(unreachable.ConnectionString);
        using var warmup = new PoolWarmup(dataSource, "read replica", NullLogger<PoolWarmup>.Instance);

        await warmup.StartAsync(CancellationToken.None);
        await warmup.ExecuteTask!; // completes: a warm-up that cannot connect is no reason to stop the service

        Assert.True(warmup.ExecuteTask!.IsCompletedSuccessfully);
    }

    /// <summary>A pool of its own (told apart by its application name) after its warm-up has run to the end.</summary>
    private async Task<(NpgsqlDataSource DataSource, string Application)> WarmedUpAsync(int minimum, int maximum)
    {
        var application = "warmup_" + Guid.NewGuid().ToString("N")[..12];
        var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary)
        {
            Database = "postgres",
            ApplicationName = application,
            MinPoolSize = minimum,
            MaxPoolSize = maximum,
        }.ConnectionString);
        using var warmup = new PoolWarmup(dataSource, "primary", NullLogger<PoolWarmup>.Instance);
        await warmup.StartAsync(CancellationToken.None);
        await warmup.ExecuteTask!;
        return (dataSource, application);
    }

    /// <summary>The backend pids of <paramref name="application"/>'s connections, in order.</summary>
    private async Task<List<int>> BackendsAsync(string application)
    {
        await using var monitor = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = "postgres", Pooling = false }.ConnectionString);
        await using var command = monitor.CreateCommand("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid");
        command.Parameters.Add(new NpgsqlParameter { Value = application });
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }
        return pids;
    }
}
