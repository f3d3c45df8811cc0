using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

/// <summary>Roles and the admin API through the gateway, the first admin made as an operator makes it (scripts/platform.sh create-admin).</summary>
[Collection(LocalPlatformCollection.Name)]
public sealed class AdminTests(EndToEndPlatform platform)
{
    [Fact]
    public async Task An_admin_manages_users_through_the_gateway_and_a_plain_user_is_refused_with_403()
    {
        var (http, _) = await platform.CheckedClientAsync(); // every answer also checked against the API document
        using var _ = http;
        var admin = await CreateAdminAsync(http);
        var (userEmail, userToken) = await PlatformUser.SignUpAsync(http);

        using (var forbidden = await SendAsync(http, HttpMethod.Get, "/api/admin/users", userToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
            Assert.Equal("https://platform.dev/problems/forbidden", (await forbidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        }
        using var found = await SendAsync(http, HttpMethod.Get, $"/api/admin/users?q={Uri.EscapeDataString(userEmail)}", admin);
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var userId = Assert.Single((await found.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid();

        using (var disabled = await SendAsync(http, HttpMethod.Post, $"/api/admin/users/{userId}/disable", admin))
        {
            Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        }

        await Poll.UntilAsync(async () =>
        {
            using var tasks = await SendAsync(http, HttpMethod.Get, "/api/tasks", userToken);
            return tasks.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(1), "the disabled user's token to be refused at the gateway");
        using (var login = await http.PostAsJsonAsync("/api/auth/login", new { email = userEmail, password = PlatformUser.Password }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        }
        using var audit = await SendAsync(http, HttpMethod.Get, $"/api/admin/audit?targetUserId={userId}", admin);
        var entry = Assert.Single((await audit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray());
        Assert.Equal("user.disable", entry.GetProperty("action").GetString());
        Assert.Equal("127.0.0.1", entry.GetProperty("clientIp").GetString()); // the client, as the gateway forwarded it
    }

    [Fact]
    public async Task The_last_admin_cannot_disable_itself()
    {
        var (http, _) = await platform.CheckedClientAsync();
        using var _ = http;
        var admin = await CreateAdminAsync(http);
        using var users = await SendAsync(http, HttpMethod.Get, "/api/admin/users?role=admin&limit=200", admin);
        var admins = (await users.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Select(u => u.GetProperty("id").GetGuid()).ToList();
        using var me = await SendAsync(http, HttpMethod.Get, "/api/auth/me", admin);
        var myId = (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        foreach (var other in admins.Where(id => id != myId))
        {
            using var disabled = await SendAsync(http, HttpMethod.Post, $"/api/admin/users/{other}/disable", admin);
            Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        }

        using var refused = await SendAsync(http, HttpMethod.Post, $"/api/admin/users/{myId}/disable", admin);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("https://platform.dev/problems/last-admin", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    /// <summary>A new admin via the script, with the password in the environment as the README says; returns its access token.</summary>
    private async Task<string> CreateAdminAsync(HttpClient http)
    {
        var email = $"e2e-admin-{Guid.NewGuid():N}@example.org";
        var environment = new Dictionary<string, string>(platform.Environment) { ["PLATFORM_ADMIN_PASSWORD"] = PlatformUser.Password };
        (await ShellCommand.RunAsync("bash", [RepoPaths.Script("platform.sh"), "create-admin", email], environment, TimeSpan.FromMinutes(2)))
            .EnsureSuccess("platform.sh create-admin");
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password = PlatformUser.Password });
        login.EnsureSuccessStatusCode();
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }
}
