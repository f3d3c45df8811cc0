using System.Net;
using System.Text.Json;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed class DefaultEndpointsTests(EndToEndPlatform platform)
{
    public static TheoryData<string> Services => ["gateway", "auth", "tasks", "files"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Every_service_is_live_and_ready(string service)
    {
        using var live = await platform.Client.GetAsync(new Uri(platform.Services[service], "/healthz"));
        using var ready = await platform.Client.GetAsync(new Uri(platform.Services[service], "/readyz"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Metrics_pass_promtool_and_carry_the_http_request_duration(string service)
    {
        using var warmUp = await platform.Client.GetAsync(new Uri(platform.Services[service], "/no-such-route"));
        var metrics = await platform.Client.GetStringAsync(new Uri(platform.Services[service], "/metrics"));

        var check = await ShellCommand.RunAsync("promtool", ["check", "metrics"], environment: null, TimeSpan.FromSeconds(30), standardInput: metrics);
        Assert.True(check.ExitCode == 0 && check.Output.Trim().Length == 0, $"promtool check metrics for {service}:\n{check.Output}");
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("http_response_status_code=\"404\"", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE kestrel_active_connections gauge", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_gc_collections_total counter", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gateway_forwards_api_routes_with_the_trace_context_and_logs_are_json_with_trace_ids()
    {
        using var gateway = new HttpClient { BaseAddress = platform.Services["gateway"], Timeout = TimeSpan.FromSeconds(30) };
        var (_, token) = await PlatformUser.SignUpAsync(gateway);
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{Guid.NewGuid()}");
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        using var response = await gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var upstreamEntry = await Poll.UntilAsync(
            () => Task.FromResult(ReadJsonLogLines(platform.LogFile("tasks")).FirstOrDefault(entry => entry.GetRawText().Contains(traceId, StringComparison.Ordinal))),
            entry => entry.ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(10),
            "the tasks service to log the forwarded request");
        var scope = upstreamEntry.GetProperty("Scopes").EnumerateArray().First(s => s.TryGetProperty("TraceId", out _));
        Assert.Equal(traceId, scope.GetProperty("TraceId").GetString());
        Assert.Matches("^[0-9a-f]{16}$", scope.GetProperty("SpanId").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("garbage")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task The_gateway_refuses_a_missing_or_invalid_token_at_the_edge_without_forwarding_it(string? token)
    {
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform.Services["gateway"], "/api/tasks"));
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await platform.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain(ReadJsonLogLines(platform.LogFile("tasks")), entry => entry.GetRawText().Contains(traceId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Answers_from_the_edge_carry_the_security_headers()
    {
        using var response = await platform.Client.GetAsync(new Uri(platform.Services["gateway"], "/.well-known/jwks.json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task The_gateway_does_not_route_anything_outside_the_api()
    {
        using var gateway = new HttpClient { BaseAddress = platform.Services["gateway"], Timeout = TimeSpan.FromSeconds(30) };
        var (_, token) = await PlatformUser.SignUpAsync(gateway);

        using var anonymous = await gateway.GetAsync("/api/unknown/thing");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/unknown/thing");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var signedIn = await gateway.SendAsync(request);

        // Anonymous clients learn nothing about the route table; a signed-in one hears that there is no such route.
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, signedIn.StatusCode);
        Assert.Equal("application/problem+json", signedIn.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void The_local_keyset_holds_one_active_es256_key()
    {
        using var keyset = JsonDocument.Parse(File.ReadAllText(Path.Combine(platform.KeysDirectory, "keyset.json")));

        var key = Assert.Single(keyset.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.Equal("P-256", key.GetProperty("privateJwk").GetProperty("crv").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(platform.KeysDirectory, "keyset.json")));
    }

    private static List<JsonElement> ReadJsonLogLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var entries = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
        {
            Assert.StartsWith("{", line, StringComparison.Ordinal);
            entries.Add(JsonDocument.Parse(line).RootElement.Clone());
        }
        return entries;
    }
}
