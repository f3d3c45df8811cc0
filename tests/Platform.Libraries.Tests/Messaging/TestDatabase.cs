using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Contracts.Events;
using Platform.Data;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>
/// A database of a test's own, created and migrated by the <c>migrate</c> command of a service that registered
/// the outbox (so it also proves that registration brings the schema along), and dropped at the end.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly DataTier tier;

    private TestDatabase(DataTier tier, string name)
    {
        this.tier = tier;
        Name = name;
        DataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(tier.PostgresPrimary) { Database = name }.ConnectionString);
    }

    public string Name { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync(DataTier tier)
    {
        var name = "messaging_" + Guid.NewGuid().ToString("N")[..12];
        await MigrateAsync(tier.PostgresPrimary, name);
        return new TestDatabase(tier, name);
    }

    /// <summary>The <c>migrate</c> command once more, as a Job retried or the next release would run it.</summary>
    public Task MigrateAgainAsync() => MigrateAsync(tier.PostgresPrimary, Name);

    private static async Task MigrateAsync(string serverConnectionString, string name)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Configuration["ConnectionStrings:Postgres"] = serverConnectionString;
        builder.AddPlatformPostgres(name);
        builder.AddPlatformOutbox();
        await using var app = builder.Build();
        Assert.Equal(0, await MigrateCommand.RunAsync(app));
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public Task<long> CountOutboxAsync() => ScalarAsync<long>("SELECT count(*) FROM outbox");

    /// <summary>Commits the events in one transaction of their own.</summary>
    public async Task EnqueueAsync(params IEnumerable<IntegrationEvent> events)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var integrationEvent in events)
        {
            await Outbox.EnqueueAsync(connection, transaction, integrationEvent, CancellationToken.None);
        }
        await transaction.CommitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await tier.OnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }
}
