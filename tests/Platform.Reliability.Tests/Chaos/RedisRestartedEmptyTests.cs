using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Testing;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// Redis SIGKILLed and started again with nothing (its append-only file deleted), as a replacement pod without a
/// volume would be: a task changed while it was away is never answered from before the change, and the gateway's
/// limits go back from each instance's own budget to the shared one. Cheap enough for <c>make test</c>.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class RedisRestartedEmptyTests(ReliabilityPlatform platform)
{
    private const string Before = "cached before Redis died";
    private const string After = "changed while Redis was down";

    [Fact]
    public async Task Redis_killed_and_restarted_empty_serves_no_stale_task_and_enforces_rate_limits_again()
    {
        var user = await platform.SignUpAsync("redis-empty");
        var id = await CreateAsync(user, Before);
        var hits = await CacheHitsAsync();
        // Read until the answer came from the cache: the stale value the drill must never see again is really cached.
        await Poll.UntilAsync(async () => (await ReadAsync(user, id)).Title == Before && await CacheHitsAsync() > hits, TimeSpan.FromSeconds(15), "a cached read of the task");

        await Sigkill.ComponentAsync(platform.Tier, DataTier.Redis, "redis-server");
        var whileDown = await ChangeAsync(user, id, After);
        var readWhileDown = (await ReadAsync(user, id)).Title;
        var fallbackWhileDown = await platform.MetricAsync("gateway", "gateway_rate_limiter_fallback");
        foreach (var file in Directory.EnumerateFileSystemEntries(Path.Combine(platform.Tier.RunDirectory, "data", DataTier.Redis)))
        {
            if (Directory.Exists(file))
            {
                Directory.Delete(file, recursive: true);
            }
            else
            {
                File.Delete(file);
            }
        }
        hits = await CacheHitsAsync();
        var restarted = Stopwatch.StartNew();
        (await platform.PlatformAsync("up")).EnsureSuccess("platform.sh up");

        // Every read after the restart must carry the change, up to and after one the refilled cache answered. The
        // fallback gauge follows the gateway's last decision, so it can only come back to 0 with traffic: these reads.
        var titles = new List<string>();
        TimeSpan? recovery = null;
        await Poll.UntilAsync(async () =>
        {
            titles.Add((await ReadAsync(user, id)).Title);
            if (recovery is null && await platform.MetricAsync("gateway", "gateway_rate_limiter_fallback") == 0)
            {
                recovery = restarted.Elapsed;
            }
            return recovery is not null && await CacheHitsAsync() > hits && titles.Count >= 3;
        }, TimeSpan.FromSeconds(30), "the gateway to use Redis again and a read answered from the refilled cache");
        var stale = titles.Count(title => title != After);
        var limited = await RegisterBurstAsync(platform.NewClientAddress(), 7);
        var held = whileDown == HttpStatusCode.OK && readWhileDown == After && fallbackWhileDown == 1 && stale == 0
            && limited.SequenceEqual([.. Enumerable.Repeat(HttpStatusCode.BadRequest, 5), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]);

        KillDrillReport.Write("redis-killed-restarted-empty", "Redis SIGKILLed, restarted empty",
            "no stale read of a task changed while Redis was down; rate limits shared and enforced again", "1 update", stale, "n/a", recovery!.Value,
            $"update while down: {(int)whileDown}; read while down: \"{readWhileDown}\"; gateway_rate_limiter_fallback while down: {fallbackWhileDown}, " +
            $"then 0; reads after the restart: {titles.Count} ({stale} stale, the last from the refilled cache); " +
            $"7 registrations from one address after it: {string.Join(" ", limited.Select(s => (int)s))}", held,
            "*Recovery* runs from `scripts/platform.sh up` (Redis with an empty data directory) to the gateway's fallback gauge back at 0.");
        Assert.Equal(HttpStatusCode.OK, whileDown);
        Assert.Equal(After, readWhileDown);
        Assert.Equal(1, fallbackWhileDown);
        Assert.Equal(0, stale);
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.BadRequest, 5), HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], limited);
    }

    private Task<double> CacheHitsAsync() => platform.MetricAsync("tasks", "cache_requests_total", "result=\"hit\"");

    private async Task<Guid> CreateAsync(PlatformUser user, string title)
    {
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        request.Content = JsonContent.Create(new { title });
        using var answer = await platform.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<(string Title, string ETag)> ReadAsync(PlatformUser user, Guid id)
    {
        using var request = platform.Request(HttpMethod.Get, $"/api/tasks/{id}", user.ClientAddress, user.AccessToken);
        using var answer = await platform.Client.SendAsync(request);
        answer.EnsureSuccessStatusCode();
        return ((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString()!, answer.Headers.ETag!.ToString());
    }

    private async Task<HttpStatusCode> ChangeAsync(PlatformUser user, Guid id, string title)
    {
        var (_, etag) = await ReadAsync(user, id);
        using var request = platform.Request(HttpMethod.Patch, $"/api/tasks/{id}", user.ClientAddress, user.AccessToken);
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        request.Content = new StringContent(JsonSerializer.Serialize(new { title }), Encoding.UTF8, "application/merge-patch+json");
        using var answer = await platform.Client.SendAsync(request);
        return answer.StatusCode;
    }

    /// <summary>
    /// Registrations auth refuses at once (400), so only the gateway's register limit (5 a minute per address)
    /// decides between reaching auth and 429.
    /// </summary>
    private async Task<List<HttpStatusCode>> RegisterBurstAsync(string address, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = platform.Request(HttpMethod.Post, "/api/auth/register", address);
            request.Content = new StringContent("""{"email":"not-an-email"}""", Encoding.UTF8, "application/json");
            using var answer = await platform.Client.SendAsync(request);
            statuses.Add(answer.StatusCode);
        }
        return statuses;
    }
}
