using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Hosting.Hosting;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Authentication;

/// <summary>
/// Keeps <see cref="RevokedSessions"/> in step with Redis without a Redis call per request: a subscription to
/// <see cref="SessionRevocations.Channel"/> adds revocations as they happen, and a SCAN of
/// <c>revoked:session:*</c> picks up the ones published while we were not listening — at start, and after
/// every reconnection. While Redis is down (or cannot be read at start), the recent revocations are fetched from auth
/// every few seconds instead (<see cref="RevocationsFromAuth"/>), so neither a pod started during an outage nor one
/// running through it accepts a session revoked meanwhile for longer than that.
/// </summary>
internal sealed partial class RevokedSessionsSync(
    IRedisConnection redis,
    RevokedSessions revoked,
    RevocationsFromAuth fallback,
    IOptions<AuthOptions> options,
    TimeProvider time,
    AuthenticationMetrics metrics,
    ILogger<RevokedSessionsSync> logger) : BackgroundLoop
{
    /// <summary>The first resync runs before the server accepts requests, but a slow Redis must not hold up the start.</summary>
    private static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);
    private const int ScanPageSize = 1_000;

    // Capacity 1, dropping extra writes: reconnections that arrive during a resync collapse into one more resync.
    private readonly Channel<bool> resyncRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // Likewise for a lost connection, which asks for no resync (there is nothing to read): only for the wait to end.
    private readonly Channel<bool> wakeups = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private bool subscribed;
    private bool synchronised;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.Restored += OnRestored;
        redis.Lost += OnLost;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(StartBudget);
        synchronised = await TrySynchroniseAsync(budget.Token);
        if (!synchronised)
        {
            using var fetchBudget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            fetchBudget.CancelAfter(StartBudget);
            await fallback.FetchAsync(fetchBudget.Token);
        }
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.Restored -= OnRestored;
        redis.Lost -= OnLost;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Jittered while Redis is away, so the validators' fetches from auth do not all land in the same instant.
            var (resyncRequested, lost) = await WaitForResyncRequestAsync(
                synchronised && redis.IsConnected ? PruneInterval : RetryDelay * (0.5 + Random.Shared.NextDouble()), stoppingToken);
            if (resyncRequested || !synchronised)
            {
                synchronised = await TrySynchroniseAsync(stoppingToken);
            }
            if (!synchronised || !redis.IsConnected)
            {
                if (lost)
                {
                    // Every pod loses Redis in the same second, and the first fetch is the whole list: spread them.
                    await Task.Delay(RetryDelay * 0.5 * Random.Shared.NextDouble(), time, stoppingToken);
                }
                // Revocations published while Redis is away reach no subscriber: auth's database still has them.
                await fallback.FetchAsync(stoppingToken);
            }
            revoked.RemoveExpired();
        }
    }

    // Raised once per restored connection (commands and subscriptions each have one); both may lose messages.
    private void OnRestored(object? sender, EventArgs e) => resyncRequests.Writer.TryWrite(true);

    // Wakes the loop out of its minute-long wait: from now on it fetches from auth every few seconds until Redis is back.
    private void OnLost(object? sender, EventArgs e) => wakeups.Writer.TryWrite(true);

    /// <summary>Until a resync is asked for, the connection is lost, or the timeout passes; says which of the first two happened.</summary>
    private async Task<(bool Resync, bool Lost)> WaitForResyncRequestAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(timeout);
        // Neither wait throws: each ends when its channel has an item or the wait is cancelled.
        await Task.WhenAny(
            resyncRequests.Reader.WaitToReadAsync(wait.Token).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default),
            wakeups.Reader.WaitToReadAsync(wait.Token).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default));
        await wait.CancelAsync(); // ends the other wait too, so no waiter is left behind on its channel
        stoppingToken.ThrowIfCancellationRequested();
        var lost = wakeups.Reader.TryRead(out _);
        return (resyncRequests.Reader.TryRead(out _), lost);
    }

    /// <summary>Subscribes first and scans second, so no revocation can fall between the two.</summary>
    private async Task<bool> TrySynchroniseAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!subscribed)
            {
                metrics.RedisCalled();
                await redis.Subscriber.SubscribeAsync(SessionRevocations.RedisChannelName, (_, message) => OnRevocationMessage(message))
                    .WaitAsync(cancellationToken);
                subscribed = true;
            }
            var found = await ScanAsync(cancellationToken);
            LogSynchronised(logger, found, revoked.Count);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false; // stopping, or the start budget is spent: the loop tries again
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogSyncFailed(logger, e.Message);
            return false;
        }
    }

    private async Task<int> ScanAsync(CancellationToken cancellationToken)
    {
        var database = redis.Database;
        var found = 0;
        long cursor = 0;
        do
        {
            metrics.RedisCalled();
            var page = (RedisResult[])(await database.ExecuteAsync("SCAN", cursor.ToString(CultureInfo.InvariantCulture),
                "MATCH", SessionRevocations.KeyPrefix + "*", "COUNT", ScanPageSize).WaitAsync(cancellationToken))!;
            cursor = long.Parse((string)page[0]!, CultureInfo.InvariantCulture);
            var keys = (RedisKey[])page[1]!;
            if (keys.Length == 0)
            {
                continue;
            }
            metrics.RedisCalled();
            var values = await database.StringGetAsync(keys).WaitAsync(cancellationToken);
            for (var i = 0; i < keys.Length; i++)
            {
                if (TryParseRevocation(keys[i], values[i], out var sessionId, out var until))
                {
                    revoked.Revoke(sessionId, until);
                    found++;
                }
            }
        }
        while (cursor != 0);
        return found;
    }

    private void OnRevocationMessage(RedisValue message)
    {
        if (Guid.TryParse((string?)message, out var sessionId))
        {
            revoked.Revoke(sessionId, time.GetUtcNow().AddSeconds(options.Value.RevokedSessionRetentionSeconds));
        }
        else
        {
            LogMalformedMessage(logger, (string?)message);
        }
    }

    private static bool TryParseRevocation(RedisKey key, RedisValue value, out Guid sessionId, out DateTimeOffset until)
    {
        until = default;
        var name = (string?)key;
        if (name is null || !Guid.TryParse(name.AsSpan(SessionRevocations.KeyPrefix.Length), out sessionId))
        {
            sessionId = default;
            return false;
        }
        if (!long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out var unixSeconds))
        {
            return false; // expired between SCAN and GET, or not written by SessionRevocations
        }
        until = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked sessions synchronised from Redis: {Found} found, {Known} known")]
    private static partial void LogSynchronised(ILogger logger, int found, int known);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revoked sessions could not be synchronised from Redis (will retry; refusing the sessions already known meanwhile): {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a message on the revocation channel that is not a session id: {Message}")]
    private static partial void LogMalformedMessage(ILogger logger, string? message);
}
