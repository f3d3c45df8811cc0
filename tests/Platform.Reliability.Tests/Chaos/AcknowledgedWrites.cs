using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>One POST /api/tasks of the write load: when it started (since the load began), how it ended.</summary>
public sealed record WriteAttempt(TimeSpan At, int Status, TimeSpan Elapsed, string? ProblemType);

/// <summary>
/// A few writers creating tasks through the gateway back to back, remembering every task a 201 acknowledged (whose
/// owner, which id): the promise the drills check is about exactly those. A refused write is retried by nobody; an
/// answer lost with the connection counts as not acknowledged, though it may have committed.
/// </summary>
public sealed class AcknowledgedWrites(ReliabilityPlatform platform, IReadOnlyList<PlatformUser> users) : IAsyncDisposable
{
    /// <summary>A failed write pauses its writer this long, so an outage is probed, not hammered by a tight loop.</summary>
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromMilliseconds(50);

    private readonly HttpClient client = new() { Timeout = TimeSpan.FromSeconds(45) };
    private readonly ConcurrentQueue<WriteAttempt> attempts = new();
    private readonly ConcurrentQueue<(PlatformUser Owner, Guid Id)> acknowledged = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stopping = new();
    private Task[] writers = [];

    public TimeSpan Now => clock.Elapsed;

    public IReadOnlyList<WriteAttempt> Attempts => [.. attempts];

    public IReadOnlyList<(PlatformUser Owner, Guid Id)> Acknowledged => [.. acknowledged];

    public void Start(int writers = 8) => this.writers = [.. Enumerable.Range(0, writers).Select(i => WriteAsync(users[i % users.Count]))];

    /// <summary>Waits until every write of the last two seconds (at least ten of them) was acknowledged; returns when that run began.</summary>
    public async Task<TimeSpan> HealthyAsync(TimeSpan since, TimeSpan timeout) =>
        (await Testing.Poll.UntilAsync(() => Task.FromResult(HealthySince(since)), at => at is not null, timeout, "every write to be acknowledged for 2 s"))!.Value;

    private TimeSpan? HealthySince(TimeSpan since)
    {
        var window = Now - TimeSpan.FromSeconds(2);
        if (window < since)
        {
            return null;
        }
        var recent = attempts.Where(a => a.At + a.Elapsed >= window).ToList();
        if (recent.Count < 10 || recent.Any(a => a.Status != 201))
        {
            return null;
        }
        var lastFailure = attempts.Where(a => a.Status != 201).Select(a => a.At + a.Elapsed).DefaultIfEmpty(since).Max();
        return lastFailure > since ? lastFailure : since;
    }

    private async Task WriteAsync(PlatformUser user)
    {
        while (!stopping.IsCancellationRequested)
        {
            var at = Now;
            var started = Stopwatch.StartNew();
            using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
            request.Content = JsonContent.Create(new { title = "acknowledged or not" });
            int status;
            string? problem = null;
            try
            {
                using var answer = await client.SendAsync(request);
                status = (int)answer.StatusCode;
                var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
                if (status == 201)
                {
                    acknowledged.Enqueue((user, body.GetProperty("id").GetGuid()));
                }
                else if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("type", out var type))
                {
                    problem = type.GetString();
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                status = e is TaskCanceledException ? 598 : 599;
                problem = e.GetType().Name;
            }
            if (status == 401 && AccessTokens.Expired(user))
            {
                // The access token ran out (a minute locally): a fact of the clock, not of the fault, so not an attempt.
                user = await AccessTokens.LogInAgainAsync(platform, user, stopping.Token);
                continue;
            }
            attempts.Enqueue(new WriteAttempt(at, status, started.Elapsed, problem));
            if (status != 201)
            {
                await Task.Delay(PauseAfterFailure);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(writers);
        client.Dispose();
        stopping.Dispose();
    }
}
