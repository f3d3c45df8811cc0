using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Data;
using Platform.Data.Retention;
using Platform.Libraries.Tests.Messaging;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Retention;

/// <summary>The retention job against a real PostgreSQL: what goes, what stays, in what batches, and what survives an outage.</summary>
[Collection(DataTierCollection.Name)]
public sealed class RetentionTests(DataTierFixture fixture) : IAsyncLifetime
{
    private const string AgedTable = "aged_rows";
    private const string RemovedSeries = $"retention_rows_removed_total{{table=\"{AgedTable}\"}}";
    private const string FailuresSeries = $"retention_failures_total{{table=\"{AgedTable}\"}}";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly RetentionRule AgedRows = new(AgedTable, "at", TimeSpan.FromDays(7), TimeSpan.FromDays(1), "the test says so.");

    private TestDatabase database = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(fixture.Tier);
        await database.ExecuteAsync($"CREATE TABLE {AgedTable} (id serial PRIMARY KEY, at timestamptz NULL); CREATE INDEX ON {AgedTable} (at)");
    }

    public async Task DisposeAsync() => await database.DisposeAsync();

    [Fact]
    public async Task Rows_older_than_the_horizon_go_in_batches_in_one_pass_and_younger_ones_stay()
    {
        await using var app = await StartAsync(AgedRows, ("Retention:BatchSize", "10"));
        await InsertAgedAsync(35, TimeSpan.FromDays(8));
        await InsertAgedAsync(5, TimeSpan.FromDays(6));
        await database.ExecuteAsync($"INSERT INTO {AgedTable} (at) VALUES (NULL)");
        Assert.Equal(0, await app.ReadMetricAsync(RemovedSeries));

        var passes = await app.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RetentionPass(AgedTable, 35, 4, LockedElsewhere: false), Assert.Single(passes));
        Assert.Equal(6, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable}"));
        Assert.Equal(0, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable} WHERE at < now() - interval '7 days'"));
        Assert.Equal(35, await app.ReadMetricAsync(RemovedSeries));
    }

    [Fact]
    public async Task A_configured_horizon_replaces_the_default()
    {
        await using var app = await StartAsync(AgedRows, ("Retention:Horizons:aged_rows", "2.00:00:00"));
        await InsertAgedAsync(3, TimeSpan.FromDays(3));
        await InsertAgedAsync(2, TimeSpan.FromDays(1));

        var pass = Assert.Single(await app.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None));

        Assert.Equal(3, pass.RowsRemoved);
        Assert.Equal(2, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable}"));
    }

    [Fact]
    public async Task A_table_another_replica_is_working_on_is_skipped_for_the_pass()
    {
        await using var app = await StartAsync(AgedRows);
        await InsertAgedAsync(3, TimeSpan.FromDays(8));
        await using var otherReplica = await database.DataSource.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock(hashtextextended('platform.retention:{AgedTable}', 0))", otherReplica))
        {
            await take.ExecuteNonQueryAsync();
        }

        var pass = Assert.Single(await app.Services.GetRequiredService<RetentionRunner>().RunOnceAsync(CancellationToken.None));

        Assert.True(pass.LockedElsewhere);
        Assert.Equal(3, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable}"));
    }

    [Fact]
    public async Task A_database_outage_fails_passes_without_stopping_the_host_and_the_next_pass_after_it_removes_the_rows()
    {
        await InsertAgedAsync(3, TimeSpan.FromDays(8));
        var primary = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary);
        await using var partition = new TcpProxy(primary.Host!, primary.Port);
        partition.Cut();
        await using var app = await StartAsync(
            new NpgsqlConnectionStringBuilder(primary.ConnectionString) { Host = "127.0.0.1", Port = partition.Port }.ConnectionString,
            AgedRows, ("Retention:Interval", "00:00:01"));

        // Two failures counted: the loop outlived the first one and ran again.
        await Poll.UntilAsync(async () => await app.ReadMetricAsync(FailuresSeries) >= 2, Patience, "two failed retention passes");
        using (var live = await app.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        Assert.Equal(3, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable}"));

        partition.Restore();
        await Poll.UntilAsync(async () => await app.ReadMetricAsync(RemovedSeries) == 3, Patience, "a pass after the outage to remove the rows");
        Assert.Equal(0, await database.ScalarAsync<long>($"SELECT count(*) FROM {AgedTable}"));
    }

    [Fact]
    public async Task A_processed_events_horizon_below_a_day_is_refused_at_start()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync(ProcessedEventsRetention.Rule, ("Retention:Horizons:processed_events", "12:00:00")));
        Assert.Contains("Retention:Horizons:processed_events is 12:00:00, below its minimum of 1.00:00:00", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_horizon_for_a_table_the_service_does_not_retain_is_refused_at_start()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync(AgedRows, ("Retention:Horizons:aged_row", "2.00:00:00")));
        Assert.Contains("Retention:Horizons:aged_row names no table this service retains", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_size_of_zero_is_refused_at_start() =>
        await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(AgedRows, ("Retention:BatchSize", "0")));

    private Task<TestApp> StartAsync(RetentionRule rule, params (string Key, string Value)[] settings) =>
        StartAsync(fixture.Tier.PostgresPrimary, rule, settings);

    /// <summary>A long interval unless a test sets one, so passes run only when the test calls them.</summary>
    private Task<TestApp> StartAsync(string postgres, RetentionRule rule, params (string Key, string Value)[] settings) =>
        TestApp.StartAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:Postgres"] = postgres;
            builder.Configuration["Retention:Interval"] = "01:00:00";
            builder.Configuration["Retention:PauseBetweenBatches"] = "00:00:00";
            foreach (var (key, value) in settings)
            {
                builder.Configuration[key] = value;
            }
            builder.AddPlatformPostgres(database.Name);
            builder.AddPlatformRetention(rule);
        });

    private Task InsertAgedAsync(int rows, TimeSpan age) =>
        database.ExecuteAsync($"INSERT INTO {AgedTable} (at) SELECT now() - interval '{(int)age.TotalSeconds} seconds' FROM generate_series(1, {rows})");
}
