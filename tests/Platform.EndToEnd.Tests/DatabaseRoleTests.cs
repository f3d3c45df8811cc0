using Npgsql;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// `make run` runs each service as its own PostgreSQL role (scripts/platform.sh; the chart's postgresql.serviceRoles):
/// every connection to a service's database is that service's, and a service's role cannot open another's database.
/// </summary>
[Collection(LocalPlatformCollection.Name)]
public sealed class DatabaseRoleTests(EndToEndPlatform platform)
{
    private static readonly string[] Databases = ["auth", "tasks", "files"];

    [Fact]
    public async Task Each_service_connects_as_its_own_role_and_cannot_open_another_services_database()
    {
        // Each service keeps a warm pool (PoolWarmup), so its connections are there to be seen.
        var seen = await Poll.UntilAsync(BackendsAsync, rows => Databases.All(d => rows.Any(r => r.Database == d)),
            TimeSpan.FromSeconds(20), "connections to the three services' databases");

        Assert.All(seen.Where(r => Databases.Contains(r.Database)), r => Assert.Equal(r.Database, r.User));
        var asTasks = new NpgsqlConnectionStringBuilder(platform.Tier.PostgresPrimary)
        {
            Username = "tasks", Password = platform.Tier.PostgresRolePassword("tasks"), Database = "auth", Pooling = false,
        };
        await using var intruder = new NpgsqlConnection(asTasks.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => intruder.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    /// <summary>The administrator's password is in no service's environment, nor another service's role password.</summary>
    [Theory]
    [InlineData("gateway")]
    [InlineData("auth")]
    [InlineData("tasks")]
    [InlineData("files")]
    public async Task A_service_process_holds_no_password_of_the_administrator_or_of_another_services_role(string service)
    {
        var pid = int.Parse(await File.ReadAllTextAsync(Path.Combine(platform.Tier.RunDirectory, "pids", service + ".pid")), System.Globalization.CultureInfo.InvariantCulture);
        var environment = (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0');

        var administrator = new NpgsqlConnectionStringBuilder(platform.Tier.PostgresPrimary).Password!;
        Assert.DoesNotContain(environment, variable => variable.Contains(administrator, StringComparison.Ordinal));
        foreach (var other in Databases.Where(d => d != service))
        {
            var password = platform.Tier.PostgresRolePassword(other);
            Assert.DoesNotContain(environment, variable => variable.Contains(password, StringComparison.Ordinal));
        }
        if (service != "gateway")
        {
            Assert.Contains(environment, variable => variable.StartsWith("ConnectionStrings__Postgres=", StringComparison.Ordinal)
                && variable.Contains($"Username={service};", StringComparison.Ordinal)
                && variable.Contains(platform.Tier.PostgresRolePassword(service), StringComparison.Ordinal));
        }
    }

    private sealed record Backend(string Database, string User);

    private async Task<List<Backend>> BackendsAsync()
    {
        var maintenance = new NpgsqlConnectionStringBuilder(platform.Tier.PostgresPrimary) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname, usename FROM pg_stat_activity WHERE datname IS NOT NULL AND pid <> pg_backend_pid()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Backend>();
        while (await reader.ReadAsync())
        {
            rows.Add(new Backend(reader.GetString(0), reader.GetString(1)));
        }
        return rows;
    }
}
