using System.Net;
using Npgsql;
using Platform.Auth.Data;
using Platform.Messaging;

namespace Platform.Auth.Tests;

/// <summary>
/// Auth's schema began as EF Core migrations. A database EF Core migrated (here: as far as its third migration, with an
/// account in it) is adopted by the numbered scripts: the migrations it has are recorded, the rest run, and the
/// service works on the result.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class SchemaAdoptionTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string Database = "auth_ef_adoption";

    public Task InitializeAsync() => fixture.Tier.OnServerAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", $"CREATE DATABASE {Database}");

    public Task DisposeAsync() => fixture.Tier.OnServerAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");

    [Fact]
    public async Task A_database_that_ef_core_migrated_is_adopted_keeps_its_accounts_and_gets_the_later_scripts()
    {
        var auth = AuthSchema.Component;
        var existing = Guid.NewGuid();
        await using (var efEra = NpgsqlDataSource.Create(ConnectionString))
        {
            var statements = auth.Scripts.Take(3).Select(script => script.Sql).Append(MessagingSchema.Component.Scripts[0].Sql).Append("""
                CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
                """).Concat(auth.EfCoreMigrationIds.Where(m => m.Key <= 3).Select(m => $"INSERT INTO \"__EFMigrationsHistory\" VALUES ('{m.Value}', '10.0.0')"));
            foreach (var sql in statements)
            {
                await using var command = efEra.CreateCommand(sql);
                await command.ExecuteNonQueryAsync();
            }
            await using var account = efEra.CreateCommand(
                $"INSERT INTO users (id, email, email_normalized, password_hash, created_at) VALUES ('{existing}', 'old@example.org', 'old@example.org', 'x', now())");
            await account.ExecuteNonQueryAsync();
        }

        await using var host = await AuthHost.StartAsync(fixture.Tier, Database); // runs the migrate command first
        var api = new AuthApiClient(host.CreateRealClient());

        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var history = dataSource.CreateCommand("SELECT component || ' ' || version || ' ' || coalesce(adopted_from, 'applied') FROM schema_history ORDER BY component, version");
        var rows = new List<string>();
        await using (var reader = await history.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }
        Assert.Equal(
            [
                "auth 1 ef-core:20261126000001_InitialSchema",
                "auth 2 ef-core:20261127000001_SessionLifetimes",
                "auth 3 ef-core:20261204000001_UserRoles",
                "auth 4 applied",
                "auth 5 applied",
                "auth 6 applied",
                "messaging 1 applied",
            ],
            rows);
        await using var kept = dataSource.CreateCommand($"SELECT email_verified FROM users WHERE id = '{existing}'");
        Assert.Equal(false, await kept.ExecuteScalarAsync()); // the account is still there, with script 5's column
        var (_, tokens) = await api.NewUserAsync(); // registration mails (script 5) and login checks disabled_at (script 4)
        using var me = await api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    private string ConnectionString => new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = Database }.ConnectionString;
}
