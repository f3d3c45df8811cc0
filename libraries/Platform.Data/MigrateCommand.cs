using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Hosting;

namespace Platform.Data;

/// <summary>
/// The <c>migrate</c> command: creates the service's database when it is missing and brings each registered
/// <see cref="SchemaComponent"/> up to date (<see cref="SchemaMigrator"/>), under an advisory lock so two migrators
/// (a Helm hook retried, a developer's terminal) never race. With Postgres:ServiceRole it also makes the service's own
/// login role the owner of its database and of everything in it, and migrates as that role (<see cref="ServiceRole"/>).
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
            var configuration = services.GetRequiredService<IConfiguration>();
            var role = configuration[ConfigurationKeys.PostgresServiceRole] is { Length: > 0 } name
                ? ServiceRole.Of(name, configuration[ConfigurationKeys.PostgresServiceRolePassword], configuration[ConfigurationKeys.PostgresServiceRoleConnectionLimit])
                : null;
            await EnsureDatabaseExistsAsync(database, role, logger, cancellationToken);
            var dataSource = services.GetRequiredService<NpgsqlDataSource>();
            await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
            await TakeLockAsync(lockConnection, cancellationToken);
            if (role is not null)
            {
                await role.AdoptObjectsAndBecomeAsync(lockConnection, cancellationToken);
                LogRole(logger, database.Name, role.Name);
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

    private static async Task TakeLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", connection);
        await take.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Creates the database when it is missing; with a service role, then makes the role and gives it the database,
    /// under the lock in <c>postgres</c> (held until this connection closes): two migrators must not both try to create
    /// the same role.
    /// </summary>
    private static async Task EnsureDatabaseExistsAsync(PrimaryDatabase database, ServiceRole? role, ILogger logger, CancellationToken cancellationToken)
    {
        if (!IsPlainIdentifier(database.Name))
        {
            throw new InvalidOperationException($"Database name '{database.Name}' must be lower-case letters, digits and underscores.");
        }
        var maintenance = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (role is not null)
        {
            await TakeLockAsync(connection, cancellationToken);
            await role.PrepareAsync(connection, cancellationToken);
        }
        await CreateDatabaseAsync(connection, database.Name, logger, cancellationToken);
        if (role is not null)
        {
            await role.TakeDatabaseAsync(connection, database.Name, cancellationToken);
        }
    }

    private static async Task CreateDatabaseAsync(NpgsqlConnection connection, string name, ILogger logger, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            LogCreated(logger, name);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another migrator created it between our check and our CREATE: that is the outcome we wanted.
        }
    }

    internal static bool IsPlainIdentifier(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') && !char.IsAsciiDigit(name[0]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} and everything in it belong to role {Role}, and no other service's role may connect; migrating as it")]
    private static partial void LogRole(ILogger logger, string database, string role);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database}")]
    private static partial void LogCreated(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} is up to date ({Applied} scripts applied now)")]
    private static partial void LogDone(ILogger logger, string database, int applied);

    [LoggerMessage(Level = LogLevel.Error, Message = "Migrating {Database} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string database);
}
