using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.Gateway.Tests;

/// <summary>
/// The platform as <c>make run</c> starts it, with the gateway's production rate limits (tests stay apart by
/// speaking for different client addresses: the gateway trusts X-Forwarded-For from loopback here, as it
/// trusts the ingress in a cluster), a circuit breaker quick enough to watch, and room for a 1 GiB file.
/// </summary>
public sealed class GatewayPlatform() : LocalPlatform("gateway", 25900, Settings), IAsyncLifetime
{
    public const string AllowedOrigin = "https://app.example.test";

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Edge__TrustedProxies__0"] = "127.0.0.1/32",
        ["Edge__CorsOrigins__0"] = AllowedOrigin,
        ["Resilience__BreakerMinimumThroughput"] = "4",
        ["Resilience__BreakerSamplingSeconds"] = "5",
        ["Resilience__BreakerBreakSeconds"] = "2",
        ["Files__MaxFileBytes"] = (2L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        ["Files__QuotaBytesPerUser"] = (3L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
    };

    private int nextClient;

    public Uri Gateway => Services["gateway"];

    /// <summary>A client address of its own (TEST-NET-3), so a test's requests draw on their own rate-limit budgets.</summary>
    public string NewClientAddress()
    {
        var n = Interlocked.Increment(ref nextClient);
        return $"203.0.{113 + n / 250}.{n % 250 + 1}";
    }

    /// <summary>Settings for another gateway in the test process, on the same Redis and upstreams as the platform's.</summary>
    public Dictionary<string, string?> InProcessGatewaySettings() => new()
    {
        ["ConnectionStrings:Redis"] = Tier.RedisConnectionString,
        ["ConnectionStrings:RabbitMq"] = Tier.RabbitMqUri,
        ["Auth:Issuer"] = Issuer,
        ["Auth:JwksUri"] = new Uri(Services["auth"], "/.well-known/jwks.json").ToString(),
        ["ReverseProxy:Clusters:auth:Destinations:local:Address"] = Services["auth"].ToString(),
        ["ReverseProxy:Clusters:tasks:Destinations:local:Address"] = Services["tasks"].ToString(),
        ["ReverseProxy:Clusters:files:Destinations:local:Address"] = Services["files"].ToString(),
        ["Edge:TrustedProxies:0"] = "127.0.0.1/32",
    };

    /// <summary>Registers and logs in a new user through the gateway, from an address of its own.</summary>
    public async Task<SignedInUser> SignUpAsync(string? email = null)
    {
        var address = NewClientAddress();
        email ??= $"gw-{Guid.NewGuid():N}@example.org";
        const string password = "correct-Horse-battery-9";
        using var register = Request(HttpMethod.Post, "/api/auth/register", address);
        register.Content = JsonContent.Create(new { email, password });
        (await Client.SendAsync(register)).EnsureSuccessStatusCode();
        using var login = Request(HttpMethod.Post, "/api/auth/login", address);
        login.Content = JsonContent.Create(new { email, password });
        using var answer = await Client.SendAsync(login);
        answer.EnsureSuccessStatusCode();
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        return new SignedInUser(email, body.GetProperty("accessToken").GetString()!, address);
    }

    /// <summary>Logs the same user in again: a second session, as on another device.</summary>
    public async Task<SignedInUser> SignInAgainAsync(SignedInUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        using var login = Request(HttpMethod.Post, "/api/auth/login", user.ClientAddress);
        login.Content = JsonContent.Create(new { email = user.Email, password = "correct-Horse-battery-9" });
        using var answer = await Client.SendAsync(login);
        answer.EnsureSuccessStatusCode();
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        return user with { AccessToken = body.GetProperty("accessToken").GetString()! };
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string clientAddress, string? token = null)
    {
        var request = new HttpRequestMessage(method, new Uri(Gateway, path));
        request.Headers.Add("X-Forwarded-For", clientAddress);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        return request;
    }

    /// <summary>The value of one series of a service's metrics (0 when absent), e.g. <c>auth_redis_calls_total</c>.</summary>
    public async Task<double> MetricAsync(string service, string series)
    {
        var text = await Client.GetStringAsync(new Uri(Services[service], "/metrics"));
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

public sealed record SignedInUser(string Email, string AccessToken, string ClientAddress)
{
    private JsonElement Claims => JsonDocument.Parse(Convert.FromBase64String(Base64(AccessToken.Split('.')[1]))).RootElement;

    public string UserId => Claims.GetProperty("sub").GetString()!;

    public string SessionId => Claims.GetProperty("sid").GetString()!;

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(Claims.GetProperty("exp").GetInt64());

    private static string Base64(string base64Url)
    {
        var padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - padded.Length % 4) % 4);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayPlatformCollection : ICollectionFixture<GatewayPlatform>
{
    public const string Name = "gateway platform";
}
