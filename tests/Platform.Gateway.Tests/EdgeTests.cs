using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>What the edge adds to, removes from and refuses in a request, seen from a test upstream that echoes what reached it.</summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class EdgeTests(GatewayPlatform platform) : IAsyncLifetime
{
    private TestApp echo = null!;

    public async Task InitializeAsync() =>
        echo = await TestApp.StartAsync(map: app => app.MapGet("/api/echo/{**rest}", (HttpContext context) =>
            context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase)));

    public async Task DisposeAsync() => await echo.DisposeAsync();

    [Fact]
    public async Task Traceparent_and_a_clients_request_id_reach_the_upstream_and_the_id_comes_back()
    {
        await using var gateway = EchoGateway();
        using var client = gateway.CreateRealClient();
        var traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo");
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        request.Headers.Add("X-Request-Id", "client-chosen-42");

        using var answer = await client.SendAsync(request);
        var seen = await HeadersSeenAsync(answer);

        // The trace goes on under the gateway's own span: one traceparent, the client's trace id, not the client's span id.
        var traceparent = seen["traceparent"].Split('-');
        Assert.Equal((4, traceId), (traceparent.Length, traceparent[1]));
        Assert.NotEqual("00f067aa0ba902b7", traceparent[2]);
        Assert.Equal("client-chosen-42", seen["X-Request-Id"]);
        Assert.Equal("client-chosen-42", answer.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task A_request_without_a_usable_id_gets_one_that_the_upstream_and_the_client_both_see()
    {
        await using var gateway = EchoGateway();
        using var client = gateway.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo");
        request.Headers.TryAddWithoutValidation("X-Request-Id", "evil\u0001id with spaces");

        using var answer = await client.SendAsync(request);
        var seen = await HeadersSeenAsync(answer);

        var id = answer.Headers.GetValues("X-Request-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, seen["X-Request-Id"]);
    }

    [Fact]
    public async Task X_Forwarded_For_is_believed_from_a_trusted_proxy_and_replaced_from_anyone_else()
    {
        await using var trusting = EchoGateway();
        await using var distrusting = EchoGateway(new() { ["Edge:TrustedProxies:0"] = "10.255.255.0/24" });

        var viaTrusted = await EchoThroughAsync(trusting, "198.51.100.7");
        var viaDistrusting = await EchoThroughAsync(distrusting, "198.51.100.7");

        Assert.Equal("198.51.100.7", viaTrusted["X-Forwarded-For"]);
        Assert.Equal("127.0.0.1", viaDistrusting["X-Forwarded-For"]);
        Assert.Equal("http", viaDistrusting["X-Forwarded-Proto"]);
    }

    [Fact]
    public async Task Only_the_entries_the_proxies_in_front_added_are_believed_even_from_trusted_networks()
    {
        // A NAT-ing load balancer's address is private, so the private ranges trusted for the ingress cover it too.
        var trustingPrivate = new Dictionary<string, string?> { ["Edge:TrustedProxies:0"] = "127.0.0.1/32", ["Edge:TrustedProxies:1"] = "10.0.0.0/8" };
        await using var oneHop = EchoGateway(trustingPrivate);
        await using var twoHops = EchoGateway(new(trustingPrivate) { ["Edge:ProxyHops"] = "2" });

        var behindOne = await EchoThroughAsync(oneHop, "198.51.100.7, 10.1.2.3");
        var behindTwo = await EchoThroughAsync(twoHops, "198.51.100.7, 10.1.2.3");

        Assert.Equal("10.1.2.3", behindOne["X-Forwarded-For"]); // what the ingress saw, not what the client claimed
        Assert.Equal("198.51.100.7", behindTwo["X-Forwarded-For"]);
    }

    [Fact]
    public async Task An_exempt_peer_passes_unlimited_only_on_routes_that_allow_exemption()
    {
        await using var gateway = EchoGateway(new()
        {
            ["RateLimiting:ExemptNetworks:0"] = "127.0.0.1/32",
            ["RateLimiting:Policies:tight:Limit"] = "2",
            ["ReverseProxy:Routes:echo:Metadata:RateLimitPolicy"] = "tight",
            ["ReverseProxy:Routes:echo:Metadata:RateLimitExemptPeers"] = "true",
            ["ReverseProxy:Routes:echo-limited:ClusterId"] = "echo",
            ["ReverseProxy:Routes:echo-limited:AuthorizationPolicy"] = "Anonymous",
            ["ReverseProxy:Routes:echo-limited:Match:Path"] = "/api/echo/limited",
            ["ReverseProxy:Routes:echo-limited:Metadata:RateLimitPolicy"] = "tight",
        });
        using var client = gateway.CreateRealClient();
        var client1 = platform.NewClientAddress();

        var exempt = new List<HttpStatusCode>();
        var limited = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            exempt.Add(await StatusAsync(client, "/api/echo", client1));
            limited.Add(await StatusAsync(client, "/api/echo/limited", client1));
        }

        Assert.All(exempt, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(3, limited.Count(status => status == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Every_answer_carries_the_security_headers_and_no_server_header()
    {
        using var answer = await platform.Client.GetAsync(new Uri(platform.Gateway, "/api/tasks"));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", answer.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", answer.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(answer.Headers.Contains("Server"));
        Assert.True(answer.Headers.Contains("X-Request-Id"));
    }

    [Fact]
    public async Task A_body_over_the_routes_limit_is_refused_413_before_it_reaches_the_service()
    {
        var user = await platform.SignUpAsync();
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        // With 100-continue the client waits for the verdict on the headers, so the refusal cannot race the body
        // (without it the gateway answers just as early, and the client may see its upload cut instead of the 413).
        // The upstream histogram shows nothing was forwarded.
        var forwardedBefore = await platform.MetricAsync("gateway", "gateway_upstream_request_duration_seconds_count{route=\"tasks\",status=\"413\",upstream=\"tasks\"}");
        request.Headers.ExpectContinue = true;
        request.Content = new StreamContent(new GeneratedContentStream(2 * 1024 * 1024));
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentLength = 2 * 1024 * 1024;

        using var answer = await platform.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(forwardedBefore, await platform.MetricAsync("gateway", "gateway_upstream_request_duration_seconds_count{route=\"tasks\",status=\"413\",upstream=\"tasks\"}"));
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_and_a_foreign_origin_gets_no_cors_grant()
    {
        var allowed = await PreflightAsync(GatewayPlatform.AllowedOrigin);
        var foreign = await PreflightAsync("https://evil.example");

        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal(GatewayPlatform.AllowedOrigin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(foreign.Headers.Contains("Access-Control-Allow-Origin"));
        allowed.Dispose();
        foreign.Dispose();
    }

    [Fact]
    public async Task A_cross_origin_script_may_read_the_authentication_challenge_and_retry_after()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(platform.Gateway, "/api/tasks"));
        request.Headers.Add("Origin", GatewayPlatform.AllowedOrigin);
        request.Headers.Add("X-Forwarded-For", platform.NewClientAddress());

        using var answer = await platform.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var exposed = answer.Headers.GetValues("Access-Control-Expose-Headers").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).ToList();
        // A step-up challenge (RFC 9470) is only in WWW-Authenticate; a browser hides every header not listed here.
        Assert.Contains("WWW-Authenticate", exposed, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("Retry-After", exposed, StringComparer.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/internal/keyset")]
    [InlineData("/internal/revocations")]
    [InlineData("/api/auth/%2e%2e/%2e%2e/internal/revocations")]
    [InlineData("/api/auth/%2e%2e/%2e%2e/internal/keyset")]
    [InlineData("/api/auth/..%2f..%2finternal/keyset")]
    [InlineData("/api/tasks/%2e%2e/readyz")]
    [InlineData("/api/files/%2e%2e/%2e%2e/internal/keyset")]
    [InlineData("/api/tasks/..%2F..%2Freadyz")]
    public async Task Internal_and_operational_endpoints_of_the_services_are_never_reached_through_the_edge(string rawPath)
    {
        var user = await platform.SignUpAsync();

        var (status, body) = await RawGetAsync(rawPath, user.AccessToken);

        Assert.Equal(404, status);
        Assert.DoesNotContain("version", body, StringComparison.Ordinal);
        Assert.DoesNotContain("# TYPE", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_public_health_summary_names_every_service_and_no_address()
    {
        using var answer = await platform.Client.GetAsync(new Uri(platform.Gateway, "/api/health"));
        var body = await answer.Content.ReadAsStringAsync();

        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{(int)answer.StatusCode}: {body}");
        var services = JsonDocument.Parse(body).RootElement.GetProperty("services");
        Assert.Equal(["auth", "files", "tasks"], services.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PreflightAsync(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(platform.Gateway, "/api/tasks"));
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return await platform.Client.SendAsync(request);
    }

    /// <summary>A request line sent as written: HttpClient would normalise the dot segments away before the gateway saw them.</summary>
    private async Task<(int Status, string Body)> RawGetAsync(string rawPath, string token)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(platform.Gateway.Host, platform.Gateway.Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {rawPath} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nX-Forwarded-For: {platform.NewClientAddress()}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        return (int.Parse(response.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), response);
    }

    private InProcessGateway EchoGateway(Dictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:echo:ClusterId"] = "echo",
            ["ReverseProxy:Routes:echo:AuthorizationPolicy"] = "Anonymous",
            ["ReverseProxy:Routes:echo:Match:Path"] = "/api/echo",
            ["ReverseProxy:Routes:echo:Metadata:RateLimitPolicy"] = "none",
            ["ReverseProxy:Clusters:echo:Destinations:local:Address"] = echo.Client.BaseAddress!.ToString(),
        };
        foreach (var (key, value) in overrides ?? [])
        {
            settings[key] = value;
        }
        return InProcessGateway.Start(platform, settings);
    }

    private static async Task<Dictionary<string, string>> EchoThroughAsync(InProcessGateway gateway, string claimedClient)
    {
        using var client = gateway.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo");
        request.Headers.Add("X-Forwarded-For", claimedClient);
        using var answer = await client.SendAsync(request);
        return await HeadersSeenAsync(answer);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, string claimedClient)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-For", claimedClient);
        using var answer = await client.SendAsync(request);
        return answer.StatusCode;
    }

    private static async Task<Dictionary<string, string>> HeadersSeenAsync(HttpResponseMessage answer) =>
        new((await answer.Content.ReadFromJsonAsync<Dictionary<string, string>>())!, StringComparer.OrdinalIgnoreCase);
}
