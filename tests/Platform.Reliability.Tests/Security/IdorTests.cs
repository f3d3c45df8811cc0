using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Reliability.Tests.Security;

/// <summary>
/// Another user's ids on every route that takes one, through the gateway and straight at the service: each is
/// answered as if the object did not exist, and the owner's objects and session are untouched afterwards.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class IdorTests(ReliabilityPlatform platform)
{
    [Fact]
    [Trait("Category", "Drill")]
    public async Task Every_route_answers_another_users_id_with_404_and_changes_nothing()
    {
        var owner = await platform.SignUpAsync("owner");
        var intruder = await platform.SignUpAsync("intruder");
        var taskId = await CreateAsync(owner, "/api/tasks", JsonContent.Create(new { title = "mine" }));
        var fileId = await CreateAsync(owner, "/api/files?name=mine.txt", new ByteArrayContent("owner's secret"u8.ToArray()));
        var attempts = new (string Service, HttpMethod Method, string Path)[]
        {
            ("tasks", HttpMethod.Get, $"/api/tasks/{taskId}"), ("tasks", HttpMethod.Put, $"/api/tasks/{taskId}"), ("tasks", HttpMethod.Patch, $"/api/tasks/{taskId}"),
            ("tasks", HttpMethod.Delete, $"/api/tasks/{taskId}"), ("files", HttpMethod.Get, $"/api/files/{fileId}"), ("files", HttpMethod.Get, $"/api/files/{fileId}/content"),
            ("files", HttpMethod.Delete, $"/api/files/{fileId}"), ("auth", HttpMethod.Delete, $"/api/auth/sessions/{owner.SessionId}"),
        };

        var rows = new List<IReadOnlyList<object>>();
        foreach (var (service, method, path) in attempts)
        {
            foreach (var target in new[] { "gateway", service })
            {
                using var request = platform.Request(method, path, intruder.ClientAddress, intruder.AccessToken, platform.Services[target]);
                if (method == HttpMethod.Put || method == HttpMethod.Patch)
                {
                    request.Content = JsonContent.Create(new { title = "taken over" });
                }
                using var answer = await platform.Client.SendAsync(request);
                rows.Add([$"{method} {path.Replace(taskId.ToString(), "{owner's task}", StringComparison.Ordinal).Replace(fileId.ToString(), "{owner's file}", StringComparison.Ordinal).Replace(owner.SessionId.ToString(), "{owner's session}", StringComparison.Ordinal)}",
                    target, (int)answer.StatusCode]);
            }
        }
        var listsLeak = (await GetAsync(intruder, "/api/tasks")).Contains(taskId.ToString(), StringComparison.Ordinal)
            || (await GetAsync(intruder, "/api/files")).Contains(fileId.ToString(), StringComparison.Ordinal);
        var ownersTask = await GetAsync(owner, $"/api/tasks/{taskId}");
        var ownersContent = await GetAsync(owner, $"/api/files/{fileId}/content");

        Report.Write("security", "idor", $"""
            ### IDOR: another user's ids on every route (through the gateway and straight at the service)

            {Report.Table(["request by the intruder", "sent to", "answer"], rows)}
            The intruder's lists show the owner's objects: {listsLeak}. Afterwards the owner's task is `{JsonDocument.Parse(ownersTask).RootElement.GetProperty("title")}`
            (version {JsonDocument.Parse(ownersTask).RootElement.GetProperty("version")}), the file reads `{ownersContent}`, and the owner's session works.
            """);
        Assert.All(rows, row => Assert.Equal(404, row[2]));
        Assert.False(listsLeak);
        Assert.Equal(("mine", 1), (JsonDocument.Parse(ownersTask).RootElement.GetProperty("title").GetString(), JsonDocument.Parse(ownersTask).RootElement.GetProperty("version").GetInt32()));
        Assert.Equal("owner's secret", ownersContent);
    }

    private async Task<Guid> CreateAsync(PlatformUser user, string path, HttpContent content)
    {
        using var request = platform.Request(HttpMethod.Post, path, user.ClientAddress, user.AccessToken);
        request.Content = content;
        using var answer = await platform.Client.SendAsync(request);
        return (await answer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<string> GetAsync(PlatformUser user, string path)
    {
        using var request = platform.Request(HttpMethod.Get, path, user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request);
        return await answer.EnsureSuccessStatusCode().Content.ReadAsStringAsync();
    }
}
