using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Platform.Reliability.Tests;

/// <summary>
/// The platform as <c>make run</c> starts it, with the gateway's production limits for anonymous routes (login,
/// register, refresh: the brute-force suites measure them) and a generous per-user budget (the corpus and the
/// load are not about that limit). The gateway trusts X-Forwarded-For from loopback, as it trusts the ingress in
/// a cluster, so each test speaks for client addresses of its own; the breaker is quick enough to watch.
/// </summary>
public sealed class ReliabilityPlatform() : LocalPlatform("reliability", 26200, Settings), IAsyncLifetime
{
    public const string AllowedOrigin = "https://app.example.test";
    public const string Password = "correct-Horse-battery-9";

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Edge__TrustedProxies__0"] = "127.0.0.1/32",
        ["Edge__CorsOrigins__0"] = AllowedOrigin,
        ["RateLimiting__Policies__user__Limit"] = "10000000",
        ["RateLimiting__Policies__user__Burst"] = "1000000",
        ["Resilience__BreakerMinimumThroughput"] = "4",
        ["Resilience__BreakerSamplingSeconds"] = "5",
        ["Resilience__BreakerBreakSeconds"] = "2",
        // Auth's session cleanup ticks every second instead of every minute, so every database outage here spans ticks.
        ["Sessions__CleanupInterval"] = "00:00:01",
    };

    private int nextClient;

    public Uri Gateway => Services["gateway"];

    public PlatformDatabases Databases { get; private set; } = null!;

    /// <summary>A client address of its own (from 100.64.0.0/10), so a test's requests draw on their own rate-limit budgets.</summary>
    public string NewClientAddress()
    {
        var n = Interlocked.Increment(ref nextClient);
        return $"100.{64 + n / 65536 % 64}.{n / 256 % 256}.{n % 256}";
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string clientAddress, string? token = null, Uri? target = null)
    {
        var request = new HttpRequestMessage(method, new Uri(target ?? Gateway, path));
        request.Headers.Add("X-Forwarded-For", clientAddress);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }
        return request;
    }

    /// <summary>
    /// The sum of a service's series of one metric whose labels include <paramref name="label"/> (e.g.
    /// <c>result="hit"</c>; every series when null), from its Prometheus endpoint; 0 when there is none yet.
    /// </summary>
    public async Task<double> MetricAsync(string service, string metric, string? label = null)
    {
        var text = await Client.GetStringAsync(new Uri(Services[service], "/metrics"));
        return text.Split('\n')
            .Where(line => (line.StartsWith(metric + " ", StringComparison.Ordinal) || line.StartsWith(metric + "{", StringComparison.Ordinal))
                && (label is null || line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Registers and logs in a new user through the gateway, from an address of its own.</summary>
    public async Task<PlatformUser> SignUpAsync(string prefix = "rel")
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@example.org";
        using (var register = Request(HttpMethod.Post, "/api/auth/register", NewClientAddress()))
        {
            register.Content = JsonContent.Create(new { email, password = Password });
            using var answer = await Client.SendAsync(register);
            answer.EnsureSuccessStatusCode();
        }
        return await LogInAsync(email);
    }

    public async Task<PlatformUser> LogInAsync(string email)
    {
        var address = NewClientAddress();
        using var login = Request(HttpMethod.Post, "/api/auth/login", address);
        login.Content = JsonContent.Create(new { email, password = Password });
        using var answer = await Client.SendAsync(login);
        answer.EnsureSuccessStatusCode();
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        var accessToken = body.GetProperty("accessToken").GetString()!;
        var claims = new JsonWebToken(accessToken);
        return new PlatformUser(email, accessToken, body.GetProperty("refreshToken").GetString()!, address,
            Guid.Parse(claims.Subject), Guid.Parse(claims.GetClaim("sid").Value));
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        await StartAsync();
        Databases = new PlatformDatabases(Tier.PostgresPrimary);
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

public sealed record PlatformUser(string Email, string AccessToken, string RefreshToken, string ClientAddress, Guid Id, Guid SessionId);

[CollectionDefinition(Name)]
public sealed class ReliabilityPlatformCollection : ICollectionFixture<ReliabilityPlatform>
{
    public const string Name = "reliability platform";
}
