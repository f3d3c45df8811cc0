using System.Diagnostics;
using System.Net;
using Platform.Testing;

namespace Platform.Gateway.Tests;

[Collection(GatewayPlatformCollection.Name)]
public sealed class RevocationTests(GatewayPlatform platform)
{
    [Fact]
    public async Task A_logged_out_token_is_refused_at_the_edge_within_a_second_without_a_redis_call_per_request()
    {
        var user = await platform.SignUpAsync();
        Assert.Equal(HttpStatusCode.OK, await GetTasksAsync(user));
        var redisCallsBefore = await platform.MetricAsync("gateway", "auth_redis_calls_total");
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await GetTasksAsync(user));
        }
        Assert.Equal(redisCallsBefore, await platform.MetricAsync("gateway", "auth_redis_calls_total"));

        using var logout = platform.Request(HttpMethod.Post, "/api/auth/logout", user.ClientAddress, user.AccessToken);
        using (var answer = await platform.Client.SendAsync(logout))
        {
            Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        }
        var loggedOut = Stopwatch.StartNew();
        await Poll.UntilAsync(async () => await GetTasksAsync(user) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(5), "the gateway to refuse the token");

        Assert.True(loggedOut.Elapsed < TimeSpan.FromSeconds(1), $"refused after {loggedOut.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_hot_token_is_answered_from_the_edges_validated_token_cache()
    {
        var user = await platform.SignUpAsync();
        var hitsBefore = await platform.MetricAsync("gateway", "gateway_token_cache_requests_total{result=\"hit\"}");
        var missesBefore = await platform.MetricAsync("gateway", "gateway_token_cache_requests_total{result=\"miss\"}");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await GetTasksAsync(user));
        }

        Assert.True(await platform.MetricAsync("gateway", "gateway_token_cache_requests_total{result=\"hit\"}") - hitsBefore >= 19);
        Assert.True(await platform.MetricAsync("gateway", "gateway_token_cache_requests_total{result=\"miss\"}") - missesBefore <= 1);
    }

    private async Task<HttpStatusCode> GetTasksAsync(SignedInUser user)
    {
        using var request = platform.Request(HttpMethod.Get, "/api/tasks", user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request);
        return answer.StatusCode;
    }
}
