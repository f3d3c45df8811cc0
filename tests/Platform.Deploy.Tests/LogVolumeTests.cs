using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Platform.Deploy.Tests;

/// <summary>
/// At the default log level a routine request costs no log line: at 100,000 requests/s a line each would be the
/// most expensive thing the platform does. Background work (cleanup ticks, the outbox) may log, so the bound is
/// a small constant, not zero. The platform runs here with the production log levels (the end-to-end suite opts
/// in to request logging; this one does not).
/// </summary>
[Collection(ScrapedPlatformCollection.Name)]
public sealed class LogVolumeTests(ScrapedPlatform platform)
{
    private static readonly string[] Services = ["gateway", "auth", "tasks", "files"];

    [Fact]
    public async Task A_thousand_routine_requests_successful_and_refused_write_a_bounded_number_of_log_lines()
    {
        using var gateway = new HttpClient { BaseAddress = platform.Services["gateway"], Timeout = TimeSpan.FromSeconds(10) };
        var token = await SignUpAsync(gateway);
        var before = Services.ToDictionary(service => service, LineCount);
        var statuses = new List<HttpStatusCode>();

        for (var i = 0; i < 1000; i++)
        {
            using var request = (i % 10) switch
            {
                0 or 1 => Authorized(HttpMethod.Post, "/api/tasks", token, JsonContent.Create(new { title = $"task {i}" })),
                2 => Authorized(HttpMethod.Get, "/api/auth/sessions", token),
                3 => Authorized(HttpMethod.Get, "/api/files", token),
                4 => Authorized(HttpMethod.Get, "/api/tasks", "not-a-token"),
                5 => new HttpRequestMessage(HttpMethod.Get, "/api/tasks"),
                6 => Authorized(HttpMethod.Get, $"/api/tasks/{Guid.NewGuid()}", token),
                7 => Authorized(HttpMethod.Post, "/api/tasks", token, new StringContent("{\"title\":", System.Text.Encoding.UTF8, "application/json")),
                _ => Authorized(HttpMethod.Get, "/api/tasks?limit=20", token),
            };
            using var response = await gateway.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        await Task.Delay(TimeSpan.FromSeconds(1)); // let the outbox publish the 200 task events, whatever it logs

        var written = Services.ToDictionary(service => service, service => LineCount(service) - before[service]);
        Assert.Equal(200, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(200, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(100, statuses.Count(s => s == HttpStatusCode.NotFound));
        Assert.Equal(100, statuses.Count(s => s == HttpStatusCode.BadRequest));
        Assert.True(written.Values.Sum() <= 20,
            "log lines written for 1,000 requests: " + string.Join(", ", written.Select(w => $"{w.Key} {w.Value}")) + "\n"
            + string.Join('\n', Services.SelectMany(service => File.ReadLines(LogFile(service)).Skip(before[service]).Take(5))));
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path, string token, HttpContent? content = null) =>
        new(method, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) }, Content = content };

    private static async Task<string> SignUpAsync(HttpClient gateway)
    {
        var email = $"logs-{Guid.NewGuid():N}@example.org";
        const string password = "correct-Horse-battery-9";
        (await gateway.PostAsJsonAsync("/api/auth/register", new { email, password })).EnsureSuccessStatusCode();
        using var login = await gateway.PostAsJsonAsync("/api/auth/login", new { email, password });
        return (await login.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    private string LogFile(string service) => Path.Combine(platform.Tier.RunDirectory, "logs", service + ".log");

    private int LineCount(string service) => File.Exists(LogFile(service)) ? File.ReadLines(LogFile(service)).Count() : 0;
}
