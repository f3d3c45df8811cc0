using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Testing;

namespace Platform.Gateway.Tests;

[Collection(GatewayPlatformCollection.Name)]
public sealed class ResilienceTests(GatewayPlatform platform)
{
    [Fact]
    public async Task A_killed_upstream_opens_its_circuit_for_its_routes_only_and_it_closes_when_the_upstream_returns()
    {
        var user = await platform.SignUpAsync();
        await platform.ContractAsync(); // the published document, read while every service is up
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, "/api/tasks")).Status);

        using (var tasks = Process.GetProcessById(platform.ProcessId("tasks")))
        {
            tasks.Kill();
            await tasks.WaitForExitAsync();
        }
        try
        {
            var open = await Poll.UntilAsync(() => SendAsync(user, "/api/tasks"), answer => answer.Status == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(20), "the tasks circuit to open");
            Assert.Equal("https://platform.dev/problems/service-unavailable", open.ProblemType);
            Assert.NotNull(open.RetryAfter);
            Assert.Empty(open.Violations);
            var refusedBefore = await platform.MetricAsync("gateway", TasksRefusals);
            var fast = await SendAsync(user, "/api/tasks");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fast.Status);
            Assert.Empty(fast.Violations);
            Assert.True(fast.Elapsed < TimeSpan.FromSeconds(1), $"an open circuit answered after {fast.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(1, await platform.MetricAsync("gateway", TasksCircuit));
            Assert.True(await platform.MetricAsync("gateway", TasksRefusals) > refusedBefore, "the refusal was not counted for UpstreamCircuitOpen");

            Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, "/api/auth/me")).Status);
            using var health = await platform.Client.GetAsync(new Uri(platform.Gateway, "/api/health"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var services = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("services");
            Assert.Equal(("down", "up"), (services.GetProperty("tasks").GetString(), services.GetProperty("auth").GetString()));
            using var ready = await platform.Client.GetAsync(new Uri(platform.Gateway, "/readyz"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Degraded", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
        finally
        {
            (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up (restarting tasks)");
        }

        await Poll.UntilAsync(async () => (await SendAsync(user, "/api/tasks")).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the tasks circuit to close");
        Assert.Equal(0, await platform.MetricAsync("gateway", TasksCircuit));
    }

    [Fact]
    public async Task An_upstream_slower_than_the_routes_timeout_is_answered_504_in_time()
    {
        await using var slow = await TestApp.StartAsync(map: app => app.MapGet("/api/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            return "too late";
        }));
        await using var gateway = InProcessGateway.Start(platform, new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:slow:ClusterId"] = "slow",
            ["ReverseProxy:Routes:slow:AuthorizationPolicy"] = "Anonymous",
            ["ReverseProxy:Routes:slow:Match:Path"] = "/api/slow",
            ["ReverseProxy:Routes:slow:Metadata:TimeoutSeconds"] = "0.5",
            ["ReverseProxy:Routes:slow:Metadata:RateLimitPolicy"] = "none",
            ["ReverseProxy:Clusters:slow:Destinations:local:Address"] = slow.Client.BaseAddress!.ToString(),
        });
        using var client = gateway.CreateRealClient();

        var clock = Stopwatch.StartNew();
        using var answer = await client.GetAsync(new Uri("/api/slow", UriKind.Relative));

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Contains("gateway-timeout", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_hangs_up_before_the_answer_is_counted_as_499_not_as_an_upstream_failure()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await TestApp.StartAsync(map: app => app.MapGet("/api/hangup", async (HttpContext context) =>
        {
            arrived.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            return "too late";
        }));
        await using var gateway = InProcessGateway.Start(platform, new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:hangup:ClusterId"] = "hangup",
            ["ReverseProxy:Routes:hangup:AuthorizationPolicy"] = "Anonymous",
            ["ReverseProxy:Routes:hangup:Match:Path"] = "/api/hangup",
            ["ReverseProxy:Routes:hangup:Metadata:RateLimitPolicy"] = "none",
            ["ReverseProxy:Clusters:hangup:Destinations:local:Address"] = slow.Client.BaseAddress!.ToString(),
        });
        using var client = gateway.CreateRealClient();

        // Hang up once the request is upstream (not on a timer: a cold gateway on a busy machine may not have forwarded it yet).
        using (var hangUp = new CancellationTokenSource())
        {
            var request = client.GetAsync(new Uri("/api/hangup", UriKind.Relative), hangUp.Token);
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }

        string[] series = [];
        await Poll.UntilAsync(async () =>
        {
            series = (await client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n')
                .Where(line => line.StartsWith("gateway_upstream_request_duration_seconds_count{", StringComparison.Ordinal)
                    && line.Contains("route=\"hangup\"", StringComparison.Ordinal))
                .ToArray();
            return series.Length > 0;
        }, TimeSpan.FromSeconds(10), "the hung-up request to be counted");
        Assert.Contains(series, line => line.Contains("status=\"499\"", StringComparison.Ordinal) && line.EndsWith(" 1", StringComparison.Ordinal));
        Assert.DoesNotContain(series, line => line.Contains("status=\"5", StringComparison.Ordinal) || line.Contains("status=\"400\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Several_addresses_of_an_upstream_share_the_load_and_a_dead_one_is_left_out()
    {
        var first = await TestApp.StartAsync(map: app => app.MapGet("/api/who", () => "first"));
        await using var second = await TestApp.StartAsync(map: app => app.MapGet("/api/who", () => "second"));
        await using var gateway = InProcessGateway.Start(platform, new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:who:ClusterId"] = "who",
            ["ReverseProxy:Routes:who:AuthorizationPolicy"] = "Anonymous",
            ["ReverseProxy:Routes:who:Match:Path"] = "/api/who",
            ["ReverseProxy:Routes:who:Metadata:RateLimitPolicy"] = "none",
            ["ReverseProxy:Clusters:who:LoadBalancingPolicy"] = "RoundRobin",
            ["ReverseProxy:Clusters:who:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:who:HealthCheck:Active:Interval"] = "00:00:01",
            ["ReverseProxy:Clusters:who:HealthCheck:Active:Timeout"] = "00:00:01",
            ["ReverseProxy:Clusters:who:HealthCheck:Active:Policy"] = "ConsecutiveFailures",
            ["ReverseProxy:Clusters:who:HealthCheck:Active:Path"] = "/healthz",
            ["ReverseProxy:Clusters:who:HealthCheck:Passive:Enabled"] = "true",
            ["ReverseProxy:Clusters:who:Destinations:a:Address"] = first.Client.BaseAddress!.ToString(),
            ["ReverseProxy:Clusters:who:Destinations:b:Address"] = second.Client.BaseAddress!.ToString(),
        });
        using var client = gateway.CreateRealClient();

        var answers = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add(await client.GetStringAsync(new Uri("/api/who", UriKind.Relative)));
        }
        Assert.Equal(5, answers.Count(answer => answer == "first"));
        Assert.Equal(5, answers.Count(answer => answer == "second"));

        await first.DisposeAsync();
        await Poll.UntilAsync(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                using var answer = await client.GetAsync(new Uri("/api/who", UriKind.Relative));
                if (!answer.IsSuccessStatusCode || await answer.Content.ReadAsStringAsync() != "second")
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(15), "every request to go to the live address");
    }

    private const string TasksRefusals = "gateway_circuit_refusals_total{upstream=\"tasks\"}";

    private string TasksCircuit => "gateway_circuit_state{destination=\"" + platform.GatewayUpstreams["tasks"].Authority + "\",upstream=\"tasks\"}";

    private async Task<Answer> SendAsync(SignedInUser user, string path)
    {
        using var request = platform.Request(HttpMethod.Get, path, user.ClientAddress, user.AccessToken);
        var clock = Stopwatch.StartNew();
        using var answer = await platform.Client.SendAsync(request);
        var body = await answer.Content.ReadAsStringAsync();
        string? type = null;
        if (answer.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            type = JsonDocument.Parse(body).RootElement.GetProperty("type").GetString();
        }
        var violations = await (await platform.ContractAsync()).ViolationsAsync(request, answer);
        return new Answer(answer.StatusCode, type, answer.Headers.RetryAfter?.Delta, clock.Elapsed, violations);
    }

    /// <summary>An answer, with what it breaks of the published document (status, required headers, problem body).</summary>
    private sealed record Answer(HttpStatusCode Status, string? ProblemType, TimeSpan? RetryAfter, TimeSpan Elapsed, IReadOnlyList<string> Violations);
}
