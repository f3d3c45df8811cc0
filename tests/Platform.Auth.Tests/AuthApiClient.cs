using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Auth.Tests;

public sealed record Tokens(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);

/// <summary>The auth API as a client uses it, so tests read as what a user does.</summary>
public sealed class AuthApiClient(HttpClient http)
{
    public const string GoodPassword = "correct-Horse-battery-9";

    public HttpClient Http { get; } = http;

    public static string NewEmail() => $"user-{Guid.NewGuid():N}@example.org";

    public Task<HttpResponseMessage> RegisterAsync(string email, string password = GoodPassword, string? name = null) =>
        Http.PostAsJsonAsync("/api/auth/register", new { email, password, name });

    public Task<HttpResponseMessage> LoginAsync(string email, string password = GoodPassword) =>
        Http.PostAsJsonAsync("/api/auth/login", new { email, password });

    /// <summary>A login as if from <paramref name="address"/>: the test client is on loopback, a proxy auth believes.</summary>
    public async Task<HttpResponseMessage> LoginFromAsync(string address, string email, string password = GoodPassword)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { email, password }) };
        request.Headers.Add("X-Forwarded-For", address);
        return await Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken });

    /// <summary>Registers a new user and logs in.</summary>
    public async Task<(string Email, Tokens Tokens)> NewUserAsync()
    {
        var email = NewEmail();
        using var registered = await RegisterAsync(email);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        return (email, await LoginOkAsync(email));
    }

    public async Task<Tokens> LoginOkAsync(string email, string password = GoodPassword)
    {
        using var response = await LoginAsync(email, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Tokens>())!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return await Http.SendAsync(request);
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        return problem;
    }
}

/// <summary>One item of <c>GET /api/auth/sessions</c>.</summary>
public sealed record SessionItem(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt,
    DateTimeOffset AbsoluteExpiresAt, string? IpAddress, string Device, bool Current);

public sealed record SessionList(IReadOnlyList<SessionItem> Items, string? NextCursor);

/// <summary>The answer of <c>GET /api/auth/config</c>.</summary>
public sealed record ClientConfig(int AccessTokenLifetimeSeconds, int IdleTimeoutSeconds, int AbsoluteLifetimeSeconds, int ActivityWriteIntervalSeconds);
