using Npgsql;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// The tests' data tier runs PostgreSQL with <c>synchronous_commit = off</c> (PLATFORM_DATATIER_FAST), so an
/// acknowledged commit may still sit in the server's WAL buffers — shared memory that a SIGKILL of every postgres
/// process takes with it. Production runs with it on (the PostgreSQL default; neither scripts/datatier.sh without
/// FAST nor the chart changes it), so a drill about acknowledged writes turns it on for its duration. <c>fsync</c>
/// may stay off: a killed process leaves the kernel's page cache, where a synchronous commit has written its WAL.
/// </summary>
public sealed class DurableCommits : IAsyncDisposable
{
    private readonly string connectionString;

    private DurableCommits(string primary) =>
        connectionString = new NpgsqlConnectionStringBuilder(primary) { Database = "postgres", Pooling = false, Timeout = 5 }.ConnectionString;

    public static async Task<DurableCommits> OnAsync(string primary)
    {
        var durable = new DurableCommits(primary);
        await durable.SetAsync("ALTER SYSTEM SET synchronous_commit = on");
        return durable;
    }

    private async Task SetAsync(string alterSystem)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var alter = new NpgsqlCommand(alterSystem, connection))
        {
            await alter.ExecuteNonQueryAsync();
        }
        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        await reload.ExecuteScalarAsync();
    }

    /// <summary>Back to the tier's setting (the primary has been restarted by then, with the setting persisted in postgresql.auto.conf).</summary>
    public async ValueTask DisposeAsync() => await SetAsync("ALTER SYSTEM RESET synchronous_commit");
}
