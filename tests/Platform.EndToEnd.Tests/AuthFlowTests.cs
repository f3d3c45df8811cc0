using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed class AuthFlowTests(EndToEndPlatform platform)
{
    private const string Password = "correct-Horse-battery-9";

    [Fact]
    public async Task A_client_registers_logs_in_refreshes_and_logs_out_through_the_gateway()
    {
        var (http, _) = await platform.CheckedClientAsync(); // every answer also checked against the API document
        using var _ = http;
        var email = $"e2e-{Guid.NewGuid():N}@example.org";

        using var registered = await http.PostAsJsonAsync("/api/auth/register", new { email, password = Password, name = "E2E" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);

        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var tokens = await login.Content.ReadFromJsonAsync<JsonElement>();
        var access = tokens.GetProperty("accessToken").GetString()!;

        var me = await GetAsync(http, "/api/auth/me", access);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(email, me.Body.GetProperty("email").GetString());

        using var refreshed = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.GetProperty("refreshToken").GetString() });
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var newAccess = (await refreshed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        logout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", newAccess);
        using var loggedOut = await http.SendAsync(logout);
        Assert.Equal(HttpStatusCode.NoContent, loggedOut.StatusCode);

        await Poll.UntilAsync(async () => (await GetAsync(http, "/api/auth/me", newAccess)).Status == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the logged-out session's token to be refused");
    }

    [Fact]
    public async Task The_jwks_is_public_through_the_gateway()
    {
        var (http, _) = await platform.CheckedClientAsync();
        using var _ = http;

        var jwks = await http.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");

        Assert.NotEmpty(jwks.GetProperty("keys").EnumerateArray());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }
}
