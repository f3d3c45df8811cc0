using Npgsql;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>Uploads into PostgreSQL as the primary sees them: each one's COPY holds its slot and a connection from its start.</summary>
internal static class RunningCopies
{
    /// <summary>Until the uploads' COPYs into <paramref name="database"/> on the primary number <paramref name="count"/>.</summary>
    public static async Task WaitForAsync(DataTier tier, string database, int count)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(tier.PostgresPrimary) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync();
        await Poll.UntilAsync(async () =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY file_chunks%'", connection)
            {
                Parameters = { new() { Value = database } },
            };
            return (long)(await command.ExecuteScalarAsync())!;
        }, copies => copies == count, TimeSpan.FromSeconds(30), $"{count} uploads' COPY to run");
    }
}
