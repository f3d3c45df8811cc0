using System.Net;
using System.Text;
using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>
/// The production limits (login 10/min, register 5/min per client address) against the real gateway and
/// Redis. Register requests here carry a body auth refuses at once (400), so only the limiter decides
/// between "reached auth" and 429.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class RateLimitTests(GatewayPlatform platform)
{
    [Fact]
    public async Task A_login_burst_from_one_address_gets_429_with_retry_after_and_rate_limit_headers()
    {
        var address = platform.NewClientAddress();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 12; i++)
        {
            using var request = platform.Request(HttpMethod.Post, "/api/auth/login", address);
            // A new unknown account each time, so auth's own per-account throttle never answers instead of the gateway.
            request.Content = new StringContent($$"""{"email":"nobody-{{Guid.NewGuid():N}}@example.org","password":"wrong-password-1"}""", Encoding.UTF8, "application/json");
            var answer = await platform.Client.SendAsync(request);
            statuses.Add(answer.StatusCode);
            if (answer.StatusCode == HttpStatusCode.TooManyRequests && refused is null)
            {
                refused = answer;
            }
            else
            {
                answer.Dispose();
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 10).Concat([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]), statuses);
        using (refused)
        {
            Assert.InRange(refused!.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
            Assert.Equal("10", refused.Headers.GetValues("RateLimit-Limit").Single());
            Assert.Equal("0", refused.Headers.GetValues("RateLimit-Remaining").Single());
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task An_ipv6_client_is_limited_by_its_slash_64_not_by_each_address_in_it()
    {
        var prefix = $"2001:db8:{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}";
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var request = platform.Request(HttpMethod.Post, "/api/auth/login", $"{prefix}::{i + 1:x}");
            request.Content = new StringContent($$"""{"email":"nobody-{{Guid.NewGuid():N}}@example.org","password":"wrong-password-1"}""", Encoding.UTF8, "application/json");
            using var answer = await platform.Client.SendAsync(request);
            statuses.Add(answer.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 10).Concat([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]), statuses);
    }

    [Fact]
    public async Task Two_gateway_instances_draw_on_one_budget()
    {
        await using var second = InProcessGateway.Start(platform);
        using var secondClient = second.CreateRealClient();
        var address = platform.NewClientAddress();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add(await RegisterAsync(i % 2 == 0 ? platform.Client : secondClient, i % 2 == 0 ? platform.Gateway : second.Address, address));
        }

        Assert.Equal(5, statuses.Count(status => status == HttpStatusCode.BadRequest));
        Assert.Equal(5, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Permits_taken_in_batches_never_admit_more_than_the_shared_budget()
    {
        // A burst of 40 leases 4 permits per Redis decision; two instances together must still stop at 40.
        var settings = new Dictionary<string, string?> { ["RateLimiting:Policies:anonymous:Limit"] = "40" };
        await using var first = InProcessGateway.Start(platform, settings);
        await using var second = InProcessGateway.Start(platform, settings);
        using var firstClient = first.CreateRealClient();
        using var secondClient = second.CreateRealClient();
        var address = platform.NewClientAddress();

        var admitted = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 60; i++)
        {
            var (client, gateway) = i % 3 == 0 ? (secondClient, second.Address) : (firstClient, first.Address);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/.well-known/jwks.json"));
            request.Headers.Add("X-Forwarded-For", address);
            using var answer = await client.SendAsync(request);
            Assert.True(answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, answer.StatusCode.ToString());
            admitted += answer.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        // At most a lease's unused remainder (3) per instance is lost; the budget refills one permit per 1.5 s meanwhile.
        var refilled = (int)Math.Ceiling(clock.Elapsed.TotalSeconds / 1.5);
        Assert.InRange(admitted, 40 - 2 * 3, 40 + refilled);
    }

    [Fact]
    public async Task Simultaneous_requests_of_one_client_share_a_lease_and_get_their_whole_budget()
    {
        // A budget of 100 leases 10 permits per Redis decision. Each request asking Redis on its own took a lease each:
        // 60 at once spent the whole budget in ten answers and the other 50 were refused.
        var settings = new Dictionary<string, string?> { ["RateLimiting:Policies:anonymous:Limit"] = "100" };
        await using var gateway = InProcessGateway.Start(platform, settings);
        using var client = gateway.CreateRealClient();
        var address = platform.NewClientAddress();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var first = await BurstAsync(60);
        var second = await BurstAsync(60);

        Assert.All(first, status => Assert.Equal(HttpStatusCode.OK, status));
        // The rest of the budget, and no more: 40, plus what refilled meanwhile (one permit per 0.6 s).
        var refilled = (int)Math.Ceiling(clock.Elapsed.TotalSeconds / 0.6);
        Assert.InRange(second.Count(status => status == HttpStatusCode.OK), 40 - 10, 40 + refilled);
        Assert.All(second, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, status.ToString()));

        async Task<HttpStatusCode[]> BurstAsync(int count) => await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.Address, "/.well-known/jwks.json"));
            request.Headers.Add("X-Forwarded-For", address);
            using var answer = await client.SendAsync(request);
            return answer.StatusCode;
        }));
    }

    [Fact]
    public async Task With_redis_stopped_each_instance_still_limits_and_nothing_fails()
    {
        await using var second = InProcessGateway.Start(platform);
        using var secondClient = second.CreateRealClient();
        var address = platform.NewClientAddress();
        await platform.Tier.DownAsync(DataTier.Redis);
        try
        {
            var first = new List<HttpStatusCode>();
            var other = new List<HttpStatusCode>();
            for (var i = 0; i < 8; i++)
            {
                first.Add(await RegisterAsync(platform.Client, platform.Gateway, address));
                other.Add(await RegisterAsync(secondClient, second.Address, address));
            }

            // Each instance keeps its own budget of 5 while Redis is away; nobody sees a 5xx.
            Assert.Equal(5, first.Count(status => status == HttpStatusCode.BadRequest));
            Assert.Equal(5, other.Count(status => status == HttpStatusCode.BadRequest));
            Assert.All(first.Concat(other), status => Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.TooManyRequests, status.ToString()));
            Assert.Equal(1, await platform.MetricAsync("gateway", "gateway_rate_limiter_fallback"));
            using var ready = await platform.Client.GetAsync(new Uri(platform.Gateway, "/readyz"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // degraded, still taking traffic
        }
        finally
        {
            await platform.Tier.UpAsync(DataTier.Redis);
        }
        await Poll.UntilAsync(async () => await RegisterAsync(platform.Client, platform.Gateway, platform.NewClientAddress()) == HttpStatusCode.BadRequest
                && await platform.MetricAsync("gateway", "gateway_rate_limiter_fallback") == 0,
            TimeSpan.FromSeconds(30), "the gateway to use Redis again");
    }

    [Fact]
    public async Task Authenticated_routes_are_limited_per_user_and_say_so_in_headers()
    {
        var user = await platform.SignUpAsync();
        using var request = platform.Request(HttpMethod.Get, "/api/tasks", platform.NewClientAddress(), user.AccessToken);

        using var answer = await platform.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("6000", answer.Headers.GetValues("RateLimit-Limit").Single());
        Assert.Equal("6000;w=60", answer.Headers.GetValues("RateLimit-Policy").Single());
    }

    private static async Task<HttpStatusCode> RegisterAsync(HttpClient client, Uri gateway, string address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/api/auth/register"));
        request.Headers.Add("X-Forwarded-For", address);
        request.Content = new StringContent("""{"email":"not-an-email"}""", Encoding.UTF8, "application/json");
        using var answer = await client.SendAsync(request);
        return answer.StatusCode;
    }
}
