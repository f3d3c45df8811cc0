using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Data;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Data;

/// <summary>Numbered scripts with a version history, against a real PostgreSQL: one database per test.</summary>
[Collection(DataTierCollection.Name)]
public sealed class SchemaMigratorTests(DataTierFixture fixture) : IAsyncLifetime
{
    private readonly string name = "schema_" + Guid.NewGuid().ToString("N")[..12];
    private NpgsqlDataSource dataSource = null!;

    public async Task InitializeAsync()
    {
        await fixture.Tier.OnServerAsync($"CREATE DATABASE \"{name}\"");
        dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(fixture.Tier.PostgresPrimary) { Database = name }.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await dataSource.DisposeAsync();
        await fixture.Tier.OnServerAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    [Fact]
    public async Task A_new_database_gets_every_script_in_order_and_a_second_run_applies_nothing()
    {
        var component = Component("notes", "CREATE TABLE notes (id int PRIMARY KEY)", "ALTER TABLE notes ADD COLUMN body text NOT NULL DEFAULT ''");

        Assert.Equal(2, await ApplyAsync(component));
        Assert.Equal(0, await ApplyAsync(component));

        Assert.Equal(["notes 1 s1 " + component.Scripts[0].Checksum + " -", "notes 2 s2 " + component.Scripts[1].Checksum + " -"], await HistoryAsync());
        await ExecuteAsync("INSERT INTO notes (id, body) VALUES (1, 'the second script ran')");
    }

    [Fact]
    public async Task A_failing_script_leaves_nothing_of_itself_and_a_corrected_one_applies_later()
    {
        var first = "CREATE TABLE notes (id int PRIMARY KEY)";
        var broken = Component("notes", first, "CREATE TABLE tags (id int PRIMARY KEY); INSERT INTO missing VALUES (1)");

        var failure = await Assert.ThrowsAsync<SchemaMigrationException>(() => ApplyAsync(broken));

        Assert.Contains("0002_s2 failed and was rolled back: 42P01", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["notes 1"], (await HistoryAsync()).Select(row => string.Join(' ', row.Split(' ')[..2])));
        Assert.False(await ScalarAsync<bool>("SELECT to_regclass('tags') IS NOT NULL"), "the failed script's first statement was kept");

        Assert.Equal(1, await ApplyAsync(Component("notes", first, "CREATE TABLE tags (id int PRIMARY KEY)")));
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('tags') IS NOT NULL"));
    }

    [Fact]
    public async Task An_applied_script_that_was_edited_since_is_refused_and_nothing_after_it_runs()
    {
        await ApplyAsync(Component("notes", "CREATE TABLE notes (\n    id int PRIMARY KEY\n)"));

        var edited = Component("notes", "CREATE TABLE notes (\n    id bigint PRIMARY KEY\n)", "CREATE TABLE tags (id int PRIMARY KEY)");
        var refusal = await Assert.ThrowsAsync<SchemaMigrationException>(() => ApplyAsync(edited));

        Assert.Contains("0001_s1 was changed after it was applied", refusal.Message, StringComparison.Ordinal);
        Assert.False(await ScalarAsync<bool>("SELECT to_regclass('tags') IS NOT NULL"));
        // Line endings are not an edit: a checkout with CRLF finds the same history.
        Assert.Equal(0, await ApplyAsync(Component("notes", "CREATE TABLE notes (\r\n    id int PRIMARY KEY\r\n)")));
    }

    [Fact]
    public async Task A_database_that_ef_core_migrated_is_adopted_and_only_the_later_scripts_run()
    {
        // What EF Core left: its history table with two migrations, and their objects (which cannot be created twice).
        await ExecuteAsync("""
            CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
            INSERT INTO "__EFMigrationsHistory" VALUES ('20260101000001_Notes', '10.0.0'), ('20260102000001_Bodies', '10.0.0');
            CREATE TABLE notes (id int PRIMARY KEY);
            ALTER TABLE notes ADD COLUMN body text NOT NULL DEFAULT '';
            """);
        var component = new SchemaComponent("notes",
            [
                new SchemaScript(1, "notes", "CREATE TABLE notes (id int PRIMARY KEY)"),
                new SchemaScript(2, "bodies", "ALTER TABLE notes ADD COLUMN body text NOT NULL DEFAULT ''"),
                new SchemaScript(3, "tags", "CREATE TABLE tags (id int PRIMARY KEY)"),
            ],
            new Dictionary<int, string> { [1] = "20260101000001_Notes", [2] = "20260102000001_Bodies", [3] = "20260103000001_Tags" });

        Assert.Equal(1, await ApplyAsync(component));

        Assert.Equal(
            [
                $"notes 1 notes {component.Scripts[0].Checksum} ef-core:20260101000001_Notes",
                $"notes 2 bodies {component.Scripts[1].Checksum} ef-core:20260102000001_Bodies",
                $"notes 3 tags {component.Scripts[2].Checksum} -",
            ],
            await HistoryAsync());
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('tags') IS NOT NULL"));
    }

    [Fact]
    public async Task Versions_newer_than_the_code_are_left_alone_so_an_older_release_still_migrates_during_a_rollback()
    {
        await ApplyAsync(Component("notes", "CREATE TABLE notes (id int PRIMARY KEY)", "CREATE TABLE tags (id int PRIMARY KEY)"));

        Assert.Equal(0, await ApplyAsync(Component("notes", "CREATE TABLE notes (id int PRIMARY KEY)")));
        Assert.Equal(2, (await HistoryAsync()).Count);
    }

    [Fact]
    public async Task Components_keep_histories_of_their_own()
    {
        var notes = Component("notes", "CREATE TABLE notes (id int PRIMARY KEY)");
        var tags = Component("tags", "CREATE TABLE tags (id int PRIMARY KEY)", "ALTER TABLE tags ADD COLUMN label text");

        Assert.Equal(3, await ApplyAsync(notes, tags));
        Assert.Equal(["notes 1", "tags 1", "tags 2"], (await HistoryAsync()).Select(row => string.Join(' ', row.Split(' ')[..2])));
    }

    [Fact]
    public void Scripts_are_numbered_from_one_without_gaps()
    {
        var gap = Assert.Throws<InvalidOperationException>(() => new SchemaComponent("notes", [new SchemaScript(1, "a", "SELECT 1"), new SchemaScript(3, "c", "SELECT 1")]));
        Assert.Contains("script 2 is 0003_c", gap.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new SchemaComponent("notes", [new SchemaScript(1, "a", "SELECT 1")], new Dictionary<int, string> { [2] = "x" }));
    }

    [Fact]
    public void The_messaging_scripts_are_embedded_and_notify_on_the_channel_the_dispatcher_listens_to()
    {
        var component = MessagingSchema.Component;

        Assert.Equal("messaging", component.Name);
        Assert.Equal("outbox_and_processed_events", component.Scripts[0].Name);
        Assert.Contains($"pg_notify('{MessagingSchema.NotificationChannel}', '')", component.Scripts[0].Sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_migrate_commands_at_once_apply_each_script_once()
    {
        var migrators = Enumerable.Range(0, 2).Select(async _ =>
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
            builder.Logging.ClearProviders();
            builder.Configuration["ConnectionStrings:Postgres"] = fixture.Tier.PostgresPrimary;
            builder.AddPlatformPostgres(name);
            builder.Services.AddSchema(Component("notes", "CREATE TABLE notes (id int PRIMARY KEY)", "SELECT pg_sleep(0.5)"));
            builder.AddPlatformOutbox(); // the messaging component, registered by the outbox
            builder.Services.AddSchema(MessagingSchema.Component); // and again, as a consumer would: it counts once
            await using var app = builder.Build();
            return await MigrateCommand.RunAsync(app);
        }).ToList();

        var exitCodes = await Task.WhenAll(migrators);
        Assert.Equal([0, 0], exitCodes);
        Assert.Equal(["messaging 1", "notes 1", "notes 2"], (await HistoryAsync()).Select(row => string.Join(' ', row.Split(' ')[..2])));
    }

    private static SchemaComponent Component(string component, params string[] scripts) =>
        new(component, [.. scripts.Select((sql, i) => new SchemaScript(i + 1, $"s{i + 1}", sql))]);

    private async Task<int> ApplyAsync(params SchemaComponent[] components)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await SchemaMigrator.ApplyAsync(connection, components, NullLogger.Instance, CancellationToken.None);
    }

    /// <summary>Each row as "component version name checksum adopted-from" ("-" when applied here).</summary>
    private async Task<List<string>> HistoryAsync()
    {
        await using var command = dataSource.CreateCommand(
            "SELECT component, version, name, checksum, coalesce(adopted_from, '-') FROM schema_history ORDER BY component, version");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add($"{reader.GetString(0)} {reader.GetInt32(1)} {reader.GetString(2)} {reader.GetString(3)} {reader.GetString(4)}");
        }
        return rows;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
