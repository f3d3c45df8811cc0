using Npgsql;

namespace Platform.Reliability.Tests;

/// <summary>
/// Read-only questions to the services' databases on the primary: what the suites check was (or was not)
/// written, beneath the API that might hide it.
/// </summary>
public sealed class PlatformDatabases(string primaryConnectionString)
{
    public async Task<long> CountAsync(string database, string sql, params object[] parameters)
    {
        var builder = new NpgsqlConnectionStringBuilder(primaryConnectionString) { Database = database, Pooling = false, Timeout = 5 };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Rows still waiting in a service's outbox: zero once every event it produced reached the broker.</summary>
    public Task<long> OutboxPendingAsync(string database) => CountAsync(database, "SELECT count(*) FROM outbox");
}
