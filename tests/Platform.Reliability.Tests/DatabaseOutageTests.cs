using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Reliability.Tests;

/// <summary>
/// With the PostgreSQL primary gone every service answers at once with a 503 in problem details and a Retry-After
/// (an outage, not a bug), keeps running through it (background jobs included), and serves again once the primary
/// is back, without a restart. Each 503 is also checked against the published API document.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class DatabaseOutageTests(ReliabilityPlatform platform)
{
    /// <summary>Requests that need the primary: reads of tasks and files would be served by the replica, which stays up.</summary>
    private static readonly (string Service, HttpMethod Method, string Path)[] Requests =
        [("auth", HttpMethod.Get, "/api/auth/me"), ("tasks", HttpMethod.Post, "/api/tasks"), ("files", HttpMethod.Post, "/api/files?name=a.txt")];

    [Fact]
    public async Task Without_the_primary_each_service_answers_a_fast_503_with_retry_after_keeps_running_and_recovers_by_itself()
    {
        var user = await platform.SignUpAsync("outage");
        var processes = Services.Select(platform.ProcessId).ToArray();
        var cleanupFailures = CleanupFailuresLogged();
        var contract = await platform.ContractAsync(); // the published document, read while the primary is up
        await platform.Tier.DownAsync(DataTier.Primary);
        var answers = new List<(string Service, HttpStatusCode Status, string? Type, bool RetryAfter, TimeSpan Elapsed, IReadOnlyList<string> Violations)>();
        try
        {
            foreach (var (service, method, path) in Requests)
            {
                using var request = Request(user, service, method, path);
                var clock = Stopwatch.StartNew();
                using var answer = await platform.Client.SendAsync(request);
                var body = await answer.Content.ReadAsStringAsync();
                answers.Add((service, answer.StatusCode, body.StartsWith('{') && JsonDocument.Parse(body).RootElement.TryGetProperty("type", out var type) ? type.GetString() : null,
                    answer.Headers.RetryAfter is not null, clock.Elapsed, await contract.ViolationsAsync(request, answer)));
            }
            // The outage lasts until a background job met it too (auth's session cleanup, every second here).
            await Poll.UntilAsync(() => Task.FromResult(CleanupFailuresLogged() > cleanupFailures), TimeSpan.FromSeconds(15), "auth's session cleanup to meet the outage");
        }
        finally
        {
            (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up");
        }
        Assert.Equal(processes, Services.Select(platform.ProcessId).ToArray());

        Assert.All(answers, a =>
        {
            Assert.Equal((a.Service, HttpStatusCode.ServiceUnavailable, "https://platform.dev/problems/service-unavailable", true),
                (a.Service, a.Status, a.Type, a.RetryAfter));
            Assert.True(a.Elapsed < TimeSpan.FromSeconds(5), $"{a.Service} answered after {a.Elapsed.TotalSeconds:0.0} s");
            Assert.Empty(a.Violations);
        });
        foreach (var (service, method, path) in Requests)
        {
            await Poll.UntilAsync(async () =>
            {
                using var request = Request(user, service, method, path);
                using var answer = await platform.Client.SendAsync(request);
                return answer.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30), $"{service} to serve again");
        }
    }

    private static readonly string[] Services = ["auth", "tasks", "files", "gateway"];

    private int CleanupFailuresLogged() =>
        File.ReadLines(platform.LogFile("auth")).Count(line => line.Contains("Session cleanup failed", StringComparison.Ordinal));

    private HttpRequestMessage Request(PlatformUser user, string service, HttpMethod method, string path)
    {
        var request = platform.Request(method, path, user.ClientAddress, user.AccessToken, platform.Services[service]);
        if (method == HttpMethod.Post)
        {
            request.Content = service == "tasks" ? System.Net.Http.Json.JsonContent.Create(new { title = "during the outage" }) : new ByteArrayContent("x"u8.ToArray());
        }
        return request;
    }
}
