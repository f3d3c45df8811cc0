using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Data;

/// <summary>A schema the code cannot bring up to date: a failed script, or one edited after it was applied.</summary>
public sealed class SchemaMigrationException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>
/// Brings each <see cref="SchemaComponent"/> of a database up to its last script, recording every step in
/// <c>schema_history</c> (component, version, checksum, when, and whether it was adopted from EF Core's history).
/// Runs on the connection that holds the <c>migrate</c> command's advisory lock, so it never races another migrator.
/// Each script runs in one transaction with its history row: it is applied entirely or not at all. Forward only:
/// there are no down scripts; a mistake is corrected by the next script.
/// </summary>
public static partial class SchemaMigrator
{
    /// <summary>
    /// A script waits at most this long for a lock: an ALTER queued behind a long transaction would otherwise stall
    /// every query on the table behind it. The migration fails instead, and its Job retries.
    /// </summary>
    public const string LockTimeout = "10s";

    private const string HistoryDdl = """
        CREATE TABLE IF NOT EXISTS schema_history (
            component text NOT NULL,
            version integer NOT NULL,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            adopted_from text NULL,
            PRIMARY KEY (component, version)
        );
        """;

    /// <summary>Applies what is missing; returns how many scripts ran (adopted ones do not count).</summary>
    public static async Task<int> ApplyAsync(NpgsqlConnection connection, IEnumerable<SchemaComponent> components, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(components);
        await using (var history = new NpgsqlCommand(HistoryDdl, connection))
        {
            await history.ExecuteNonQueryAsync(cancellationToken);
        }
        var ran = 0;
        foreach (var component in components)
        {
            var applied = await ReadHistoryAsync(connection, component.Name, cancellationToken);
            if (applied.Count == 0 && component.EfCoreMigrationIds.Count > 0)
            {
                applied = await AdoptEfCoreHistoryAsync(connection, component, logger, cancellationToken);
            }
            var newer = applied.Keys.Where(version => version > component.Scripts.Count).Order().ToList();
            if (newer.Count > 0)
            {
                LogNewerThanCode(logger, component.Name, string.Join(", ", newer), component.Scripts.Count);
            }
            foreach (var script in component.Scripts)
            {
                if (applied.TryGetValue(script.Version, out var checksum))
                {
                    if (checksum != script.Checksum)
                    {
                        throw new SchemaMigrationException(
                            $"Schema '{component.Name}' script {script.Label} was changed after it was applied (checksum {checksum[..12]}…, the code's {script.Checksum[..12]}…). " +
                            "An applied script is never edited: restore it and put the change in a new script.");
                    }
                    continue;
                }
                await ApplyScriptAsync(connection, component, script, cancellationToken);
                LogApplied(logger, component.Name, script.Label);
                ran++;
            }
        }
        return ran;
    }

    private static async Task<Dictionary<int, string>> ReadHistoryAsync(NpgsqlConnection connection, string component, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM schema_history WHERE component = $1", connection)
        {
            Parameters = { new() { Value = component } },
        };
        var applied = new Dictionary<int, string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(reader.GetInt32(0), reader.GetString(1));
        }
        return applied;
    }

    /// <summary>
    /// A database that EF Core migrated before this history existed already holds the objects of the scripts that
    /// stand for its applied migrations: they are recorded as applied (and as adopted), not run again.
    /// </summary>
    private static async Task<Dictionary<int, string>> AdoptEfCoreHistoryAsync(NpgsqlConnection connection, SchemaComponent component, ILogger logger, CancellationToken cancellationToken)
    {
        var adopted = new Dictionary<int, string>();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('\"__EFMigrationsHistory\"') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return adopted;
            }
        }
        var efApplied = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                efApplied.Add(reader.GetString(0));
            }
        }
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var script in component.Scripts)
        {
            if (!component.EfCoreMigrationIds.TryGetValue(script.Version, out var migrationId) || !efApplied.Contains(migrationId))
            {
                continue;
            }
            await RecordAsync(connection, component, script, "ef-core:" + migrationId, cancellationToken);
            adopted.Add(script.Version, script.Checksum);
            LogAdopted(logger, component.Name, script.Label, migrationId);
        }
        await transaction.CommitAsync(cancellationToken);
        return adopted;
    }

    private static async Task ApplyScriptAsync(NpgsqlConnection connection, SchemaComponent component, SchemaScript script, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using (var limit = new NpgsqlCommand($"SET LOCAL lock_timeout = '{LockTimeout}'", connection))
            {
                await limit.ExecuteNonQueryAsync(cancellationToken);
            }
            // No statement timeout: building an index on a large table may take minutes; the lock timeout keeps it from stalling others.
            await using (var apply = new NpgsqlCommand(script.Sql, connection) { CommandTimeout = 0 })
            {
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }
            await RecordAsync(connection, component, script, adoptedFrom: null, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw new SchemaMigrationException($"Schema '{component.Name}' script {script.Label} failed and was rolled back: {e.SqlState}: {e.MessageText}", e);
        }
    }

    private static async Task RecordAsync(NpgsqlConnection connection, SchemaComponent component, SchemaScript script, string? adoptedFrom, CancellationToken cancellationToken)
    {
        await using var record = new NpgsqlCommand(
            "INSERT INTO schema_history (component, version, name, checksum, adopted_from) VALUES ($1, $2, $3, $4, $5)", connection)
        {
            Parameters =
            {
                new() { Value = component.Name },
                new() { Value = script.Version },
                new() { Value = script.Name },
                new() { Value = script.Checksum },
                new() { Value = (object?)adoptedFrom ?? DBNull.Value },
            },
        };
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema {Component} {Script}")]
    private static partial void LogApplied(ILogger logger, string component, string script);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adopted schema {Component} {Script} from EF Core migration {MigrationId}, which created the same objects")]
    private static partial void LogAdopted(ILogger logger, string component, string script, string migrationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schema {Component} has versions {Versions} that this code does not know (it knows 1-{Known}): a newer release migrated this database; carrying on, as an older release must keep working on a newer schema during a rollout")]
    private static partial void LogNewerThanCode(ILogger logger, string component, string versions, int known);
}
