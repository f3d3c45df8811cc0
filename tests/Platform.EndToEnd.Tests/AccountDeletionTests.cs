using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed class AccountDeletionTests(EndToEndPlatform platform)
{
    /// <summary>
    /// The whole chain of docs/architecture.md §6 (the flow of §9.5) with nothing stubbed: auth's outbox, the broker,
    /// and the tasks and files services' own consumers, each purging its own database.
    /// </summary>
    [Fact]
    public async Task Deleting_an_account_purges_its_tasks_and_files_in_every_service()
    {
        var (http, _) = await platform.CheckedClientAsync(); // every answer also checked against the API document
        using var _ = http;
        var email = $"e2e-{Guid.NewGuid():N}@example.org";
        (await http.PostAsJsonAsync("/api/auth/register", new { email, password = "correct-Horse-battery-9" })).EnsureSuccessStatusCode();
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password = "correct-Horse-battery-9" });
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var userId = (await http.GetFromJsonAsync<JsonElement>("/api/auth/me")).GetProperty("id").GetGuid();

        using var task = await http.PostAsJsonAsync("/api/tasks", new { title = "to be purged" });
        using var file = await http.PostAsync("/api/files?name=notes.txt", new StringContent("to be purged", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, task.StatusCode);
        Assert.Equal(HttpStatusCode.Created, file.StatusCode);
        Assert.Equal(1, await CountAsync("tasks", "SELECT count(*) FROM tasks WHERE user_id = $1", userId));
        Assert.Equal(1, await CountAsync("files", "SELECT count(*) FROM files WHERE owner = $1", userId));

        using var deleted = await http.DeleteAsync("/api/auth/account");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Poll.UntilAsync(async () =>
                await CountAsync("tasks", "SELECT count(*) FROM tasks WHERE user_id = $1", userId) == 0
                && await CountAsync("files", "SELECT count(*) FROM files WHERE owner = $1", userId) == 0,
            TimeSpan.FromSeconds(15), "the tasks and files services to purge the deleted user's data");
    }

    private async Task<long> CountAsync(string database, string sql, Guid userId)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(platform.Tier.PostgresPrimary) { Database = database }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = userId });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
