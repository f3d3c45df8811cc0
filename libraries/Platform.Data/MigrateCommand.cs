using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Data;

/// <summary>
/// The <c>migrate</c> command: creates the service's database when it is missing and brings each registered
/// <see cref="SchemaComponent"/> up to date (<see cref="SchemaMigrator"/>), under an advisory lock so two migrators
/// (a Helm hook retried, a developer's terminal) never race.
/// </summary>
public static partial class MigrateCommand
{
    private const long MigrationLockKey = 0x706c_6174_666f_726d; // "platform"

    public static bool IsMigrateCommand(string[] args) => args is ["migrate", ..];

    public static Task<int> RunAsync(WebApplication app, CancellationToken cancellationToken = default) =>
        RunAsync(app.Services, cancellationToken);

    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Platform.Migrate");
        var database = services.GetRequiredService<PrimaryDatabase>();
        try
        {
            await EnsureDatabaseExistsAsync(database, logger, cancellationToken);
            var dataSource = services.GetRequiredService<NpgsqlDataSource>();
            await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", lockConnection))
            {
                await take.ExecuteNonQueryAsync(cancellationToken);
            }
            var applied = await SchemaMigrator.ApplyAsync(lockConnection, services.GetServices<SchemaComponent>(), logger, cancellationToken);
            LogDone(logger, database.Name, applied);
            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            LogFailed(logger, e, database.Name);
            return 1;
        }
    }

    private static async Task EnsureDatabaseExistsAsync(PrimaryDatabase database, ILogger logger, CancellationToken cancellationToken)
    {
        if (!IsPlainIdentifier(database.Name))
        {
            throw new InvalidOperationException($"Database name '{database.Name}' must be lower-case letters, digits and underscores.");
        }
        var maintenance = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database.Name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            LogCreated(logger, database.Name);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another migrator created it between our check and our CREATE: that is the outcome we wanted.
        }
    }

    private static bool IsPlainIdentifier(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') && !char.IsAsciiDigit(name[0]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database}")]
    private static partial void LogCreated(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} is up to date ({Applied} scripts applied now)")]
    private static partial void LogDone(ILogger logger, string database, int applied);

    [LoggerMessage(Level = LogLevel.Error, Message = "Migrating {Database} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string database);
}
