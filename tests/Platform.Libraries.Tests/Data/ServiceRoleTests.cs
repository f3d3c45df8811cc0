using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Data;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Data;

/// <summary>
/// The migrate command with Postgres:ServiceRole, against the real PostgreSQL (password logins over TCP are SCRAM):
/// the service's role owns its database and everything in it, logs in with the configured password, and reaches no
/// other service's database. Roles are server-wide: each test names its own and drops them.
/// </summary>
[Collection(DataTierCollection.Name)]
public sealed class ServiceRoleTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly string suffix = Guid.NewGuid().ToString("N")[..10];
    private readonly List<string> databases = [];
    private readonly List<string> roles = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await fixture.Tier.OnServerAsync([
            .. databases.Select(d => $"DROP DATABASE IF EXISTS \"{d}\" WITH (FORCE)"),
            .. roles.Select(r => $"DROP ROLE IF EXISTS \"{r}\""),
        ]);
    }

    private static readonly SchemaComponent Before = new("notes", [
        new SchemaScript(1, "notes", """
            CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
            CREATE SEQUENCE note_numbers;
            CREATE VIEW note_bodies AS SELECT body FROM notes;
            CREATE TYPE mood AS ENUM ('calm', 'busy');
            CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM notes';
            """),
    ]);

    /// <summary>Script 2 replaces a function and alters a table made by script 1: only their owner may.</summary>
    private static readonly SchemaComponent After = new("notes", [
        Before.Scripts[0],
        new SchemaScript(2, "more", """
            CREATE OR REPLACE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) + 0 FROM notes';
            ALTER TABLE notes ADD COLUMN mood mood NULL;
            CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note_id int REFERENCES notes (id));
            """),
    ]);

    [Fact]
    public async Task A_database_migrated_as_the_administrator_is_given_to_the_service_role_which_alone_may_connect()
    {
        var database = Name("svc");
        Assert.Equal(0, await MigrateAsync(database, Before, role: null, password: null));

        Assert.Equal(0, await MigrateAsync(database, After, role: database, password: "first-Secret-1"));

        Assert.Equal(database, await ScalarAsync(fixture.Tier.PostgresPrimary, database, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"));
        Assert.Empty(await NotOwnedByAsync(database, database));
        await using (var asRole = await OpenAsync(database, database, "first-Secret-1"))
        {
            await ExecuteAsync(asRole, "INSERT INTO notes (body, mood) VALUES ('hello', 'calm')");
            await ExecuteAsync(asRole, "INSERT INTO tags (note_id) SELECT id FROM notes");
            Assert.Equal(1L, await ScalarAsync(asRole, "SELECT note_count()"));
            // What the services run besides their own tables: the replica monitor's functions, LISTEN, advisory locks.
            await ExecuteAsync(asRole, "SELECT pg_current_wal_lsn(), pg_is_in_recovery(), pg_last_xact_replay_timestamp()");
            await ExecuteAsync(asRole, "LISTEN outbox; SELECT pg_advisory_lock(1); SELECT pg_advisory_unlock(1)");
            Assert.Equal(false, await ScalarAsync(asRole, "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user"));
        }

        var other = Name("other");
        Assert.Equal(0, await MigrateAsync(other, MessagingSchema.Component, role: other, password: "other-Secret-2"));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(other, database, "other-Secret-2"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        await using (var own = await OpenAsync(other, other, "other-Secret-2"))
        {
            Assert.Equal(0L, await ScalarAsync(own, "SELECT count(*) FROM outbox"));
        }
    }

    [Fact]
    public async Task The_password_follows_the_configuration_at_each_migration_ascii_or_not()
    {
        var database = Name("pw");
        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: "old-Secret-1"));
        await (await OpenAsync(database, database, "old-Secret-1")).DisposeAsync();

        const string NonAscii = "nöuveau-Sécret-2'\\'\"; DROP ROLE x";
        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: NonAscii));

        var stale = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(database, database, "old-Secret-1"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, stale.SqlState);
        await (await OpenAsync(database, database, NonAscii)).DisposeAsync();
        // Sent as a SCRAM verifier when it can be: the server never sees the password itself.
        Assert.StartsWith("SCRAM-SHA-256$4096:", ServiceRole.ScramVerifier("printable-ASCII"), StringComparison.Ordinal);
    }

    /// <summary>
    /// The previous release still serves while the upgrade's migration gives its tables away: an ALTER that waits on a
    /// long transaction must give up (the Job retries), not hold every query on the table queued behind it.
    /// </summary>
    [Fact]
    public async Task Giving_away_a_table_a_long_transaction_holds_fails_at_the_lock_timeout_and_a_retry_succeeds()
    {
        var database = Name("busy");
        Assert.Equal(0, await MigrateAsync(database, Before, role: null, password: null));
        var reader = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = database, Pooling = false }.ConnectionString;
        await using (var longRead = new NpgsqlConnection(reader))
        {
            await longRead.OpenAsync();
            await using var transaction = await longRead.BeginTransactionAsync();
            await ExecuteAsync(longRead, "SELECT count(*) FROM notes");

            var started = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(1, await MigrateAsync(database, After, role: database, password: "busy-Secret-5"));
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"the migration waited {started.Elapsed.TotalSeconds:F0} s for the lock");
            // Nothing was given away: the ALTERs are one transaction.
            Assert.NotEmpty(await NotOwnedByAsync(database, database));
        }

        Assert.Equal(0, await MigrateAsync(database, After, role: database, password: "busy-Secret-5"));
        Assert.Empty(await NotOwnedByAsync(database, database));
    }

    /// <summary>A managed server's administrator is no superuser: CREATEROLE and CREATEDB must be enough.</summary>
    [Fact]
    public async Task An_administrator_with_createrole_and_createdb_but_no_superuser_can_set_it_up()
    {
        var admin = Name("admin");
        await fixture.Tier.OnServerAsync($"CREATE ROLE \"{admin}\" LOGIN CREATEROLE CREATEDB PASSWORD 'admin-Secret-3'");
        var database = Name("managed");
        var asAdmin = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Username = admin, Password = "admin-Secret-3" }.ConnectionString;

        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: "svc-Secret-4", server: asAdmin));
        // Every upgrade migrates again: the role exists by then, and only its password and attributes are set.
        Assert.Equal(0, await MigrateAsync(database, After, role: database, password: "svc-Secret-4", server: asAdmin));

        Assert.Empty(await NotOwnedByAsync(database, database));
        await using var asRole = await OpenAsync(database, database, "svc-Secret-4");
        Assert.Equal(0L, await ScalarAsync(asRole, "SELECT note_count()"));
        // The previous release's pods connect as the administrator until they are replaced: it is a member of the role.
        await using var asAdminStill = await OpenAsync(admin, database, "admin-Secret-3");
        Assert.Equal(0L, await ScalarAsync(asAdminStill, "SELECT count(*) FROM notes"));
    }

    [Theory]
    [InlineData("Auth", "a-Secret")]
    [InlineData("pg_auth", "a-Secret")]
    [InlineData("auth", "")]
    [InlineData("ADMIN", "a-Secret")] // replaced by the administrator's own name below
    public async Task A_bad_role_or_password_or_the_administrators_own_name_fails_the_migration_and_creates_nothing(string role, string password)
    {
        var database = Name("bad");
        if (role == "ADMIN")
        {
            role = new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary).Username!;
        }

        Assert.Equal(1, await MigrateAsync(database, Before, role, password));

        Assert.Null(await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", $"SELECT 1 FROM pg_database WHERE datname = '{database}'"));
        Assert.Equal(true, await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
    }

    /// <summary>
    /// A service scaled past its plan, or leaking connections, must not take the other services' share of the server:
    /// its role is refused the connection past its limit, while the administrator and other roles still connect.
    /// </summary>
    [Fact]
    public async Task The_role_holds_at_most_its_connection_limit_which_follows_the_configuration_at_each_migration()
    {
        var database = Name("limit");
        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: "limit-Secret-6", connectionLimit: "2"));

        await using (var first = await OpenAsync(database, database, "limit-Secret-6"))
        await using (var second = await OpenAsync(database, database, "limit-Secret-6"))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(database, database, "limit-Secret-6"));
            Assert.Equal(PostgresErrorCodes.TooManyConnections, refused.SqlState);
            Assert.Equal(1, await ScalarAsync(fixture.Tier.PostgresPrimary, database, "SELECT 1"));
        }

        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: "limit-Secret-6", connectionLimit: "3"));
        Assert.Equal(3, await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", $"SELECT rolconnlimit FROM pg_roles WHERE rolname = '{database}'"));
        Assert.Equal(0, await MigrateAsync(database, Before, role: database, password: "limit-Secret-6"));
        Assert.Equal(-1, await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", $"SELECT rolconnlimit FROM pg_roles WHERE rolname = '{database}'"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("ten")]
    [InlineData("99999999999")]
    public async Task A_connection_limit_that_is_not_a_positive_number_or_minus_one_fails_the_migration_and_creates_nothing(string limit)
    {
        var database = Name("badlimit");

        Assert.Equal(1, await MigrateAsync(database, Before, role: database, password: "a-Secret", connectionLimit: limit));

        Assert.Null(await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", $"SELECT 1 FROM pg_database WHERE datname = '{database}'"));
        Assert.Null(await ScalarAsync(fixture.Tier.PostgresPrimary, "postgres", $"SELECT 1 FROM pg_roles WHERE rolname = '{database}'"));
    }

    private string Name(string what)
    {
        var name = $"{what}_{suffix}";
        databases.Add(name);
        roles.Add(name);
        return name;
    }

    private async Task<int> MigrateAsync(string database, SchemaComponent component, string? role, string? password, string? server = null, string? connectionLimit = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Configuration["ConnectionStrings:Postgres"] = server ?? fixture.Tier.PostgresPrimary;
        builder.Configuration["Postgres:ServiceRole"] = role;
        builder.Configuration["Postgres:ServiceRolePassword"] = password;
        builder.Configuration["Postgres:ServiceRoleConnectionLimit"] = connectionLimit;
        builder.AddPlatformPostgres(database);
        builder.Services.AddSchema(component);
        await using var app = builder.Build();
        return await MigrateCommand.RunAsync(app);
    }

    /// <summary>Objects of the database's own schemas that another role owns, as "kind name owner".</summary>
    private async Task<List<string>> NotOwnedByAsync(string database, string role)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT 'class ' || c.relname || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> $1
            UNION ALL
            SELECT 'routine ' || p.proname || ' ' || pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
            UNION ALL
            SELECT 'type ' || t.typname || ' ' || pg_get_userbyid(t.typowner) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(t.typowner) <> $1
            """, connection) { Parameters = { new() { Value = role } } };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    private async Task<NpgsqlConnection> OpenAsync(string role, string database, string password)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary)
        {
            Username = role, Password = password, Database = database, Pooling = false,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<object?> ScalarAsync(string server, string database, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return await ScalarAsync(connection, sql);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
