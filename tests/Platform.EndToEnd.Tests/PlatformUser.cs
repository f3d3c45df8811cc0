using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.EndToEnd.Tests;

/// <summary>A user registered and logged in through the gateway, as a client does it.</summary>
public static class PlatformUser
{
    public const string Password = "correct-Horse-battery-9";

    public static async Task<(string Email, string AccessToken)> SignUpAsync(HttpClient gateway)
    {
        var email = $"e2e-{Guid.NewGuid():N}@example.org";
        (await gateway.PostAsJsonAsync("/api/auth/register", new { email, password = Password })).EnsureSuccessStatusCode();
        using var login = await gateway.PostAsJsonAsync("/api/auth/login", new { email, password = Password });
        login.EnsureSuccessStatusCode();
        return (email, (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!);
    }
}
