using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Reliability.Tests.Chaos;

/// <summary>One request of the steady load: when it started (since the load began), what it was, how it ended.</summary>
public sealed record Sample(TimeSpan At, string Route, int Status, TimeSpan Elapsed, string? ProblemType)
{
    public bool Ok => Status is >= 200 and < 300;

    public bool ServerError => Status >= 500;
}

/// <summary>
/// A steady mix of reads and writes over every service through the gateway, from a few users, paced at about
/// <c>rate</c> requests per second (a modest load: the point is what fails, not how much passes). The client
/// waits longer than the gateway's own timeout, so a hang shows as a latency, not as a client error.
/// </summary>
public sealed class LoadGenerator(ReliabilityPlatform platform, IReadOnlyList<PlatformUser> users, int rate = 150) : IAsyncDisposable
{
    public const string TasksList = "GET /api/tasks";
    public const string TasksCreate = "POST /api/tasks";
    public const string Me = "GET /api/auth/me";
    public const string FilesList = "GET /api/files";

    private static readonly string[] Routes = [TasksList, TasksList, TasksCreate, Me, FilesList];

    private readonly HttpClient client = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(45) };
    private readonly ConcurrentQueue<Sample> samples = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> inFlight = [];
    private readonly PlatformUser[] current = [.. users];
    private readonly int[] renewing = new int[users.Count];
    private Task? pacing;

    public TimeSpan Now => clock.Elapsed;

    public IReadOnlyList<Sample> Samples => [.. samples];

    /// <summary>Tasks created (201) during the load: each one is a task.created event that must be delivered.</summary>
    public int TasksCreated => samples.Count(s => s.Route == TasksCreate && s.Status == 201);

    public void Start() => pacing = PaceAsync();

    /// <summary>Waits until every request since <paramref name="since"/> within the last two seconds succeeded; returns when that window began.</summary>
    public async Task<TimeSpan> RecoveredAsync(TimeSpan since, TimeSpan timeout) =>
        (await Testing.Poll.UntilAsync(() => Task.FromResult(RecoveredAt(since)), at => at is not null, timeout, "every request to succeed for 2 s"))!.Value;

    private TimeSpan? RecoveredAt(TimeSpan since)
    {
        var window = Now - TimeSpan.FromSeconds(2);
        if (window < since)
        {
            return null;
        }
        var recent = samples.Where(s => s.At + s.Elapsed >= window).ToList();
        if (recent.Count < 20 || recent.Any(s => !s.Ok))
        {
            return null;
        }
        var lastFailure = samples.Where(s => !s.Ok).Select(s => s.At + s.Elapsed).DefaultIfEmpty(since).Max();
        return lastFailure > since ? lastFailure : since;
    }

    private async Task PaceAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate));
        var n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                var index = n % users.Count;
                var route = Routes[n / users.Count % Routes.Length];
                n++;
                lock (inFlight)
                {
                    inFlight.RemoveAll(task => task.IsCompleted);
                    inFlight.Add(SendAsync(index, current[index], route));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The load was stopped.
        }
    }

    private async Task SendAsync(int index, PlatformUser user, string route)
    {
        var at = Now;
        var started = Stopwatch.StartNew();
        var method = route.StartsWith("POST", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get;
        using var request = platform.Request(method, route[(route.IndexOf(' ', StringComparison.Ordinal) + 1)..], user.ClientAddress, user.AccessToken);
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent.Create(new { title = "load" });
        }
        try
        {
            using var answer = await client.SendAsync(request);
            if (answer.StatusCode == HttpStatusCode.Unauthorized && AccessTokens.Expired(user))
            {
                // A drill under a loaded machine can outlive make run's one-minute tokens: the clock's doing, not the
                // fault's, so not a sample. A 401 for a token still valid is recorded like any failure.
                Renew(index);
                return;
            }
            var problem = answer.Content.Headers.ContentType?.MediaType == "application/problem+json"
                ? (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString()
                : null;
            samples.Enqueue(new Sample(at, route, (int)answer.StatusCode, started.Elapsed, problem));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            samples.Enqueue(new Sample(at, route, e is TaskCanceledException ? 598 : 599, started.Elapsed, e.GetType().Name));
        }
    }

    /// <summary>One new login per user at a time, in the background; requests go on with the old token meanwhile.</summary>
    private void Renew(int index)
    {
        if (Interlocked.Exchange(ref renewing[index], 1) == 1)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                current[index] = await AccessTokens.LogInAgainAsync(platform, current[index], stopping.Token);
            }
            finally
            {
                Volatile.Write(ref renewing[index], 0);
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        if (pacing is not null)
        {
            await pacing;
        }
        Task[] pending;
        lock (inFlight)
        {
            pending = [.. inFlight];
        }
        await Task.WhenAll(pending);
        client.Dispose();
        stopping.Dispose();
    }
}
