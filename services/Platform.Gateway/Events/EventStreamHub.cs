using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Authentication;

namespace Platform.Gateway.Events;

/// <summary>
/// The open streams of this gateway instance, by user and by session: the instance's one consumer hands each event
/// to the streams of its user; a revoked session's streams get a final <c>session.terminated</c> and end; a stream
/// whose token expires ends. One timer for all streams sends keep-alives and checks expiry, so an idle stream costs
/// no timer of its own.
/// </summary>
public sealed class EventStreamHub : IHostedService, IDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<EventSubscriber, byte>> byUser = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<EventSubscriber, byte>> bySession = new();
    private readonly IOptions<EventStreamOptions> options;
    private readonly SessionRevocations revocations;
    private readonly EventStreamMetrics metrics;
    private readonly TimeProvider time;
    private readonly IHostApplicationLifetime lifetime;
    private readonly StreamLeases leases;
    private readonly Lock admission = new();
    private ITimer? sweeper;
    private int open;

    public EventStreamHub(IOptions<EventStreamOptions> options, SessionRevocations revocations, EventStreamMetrics metrics, TimeProvider time, IHostApplicationLifetime lifetime, StreamLeases leases)
    {
        this.leases = leases;
        this.options = options;
        this.revocations = revocations;
        this.metrics = metrics;
        this.time = time;
        this.lifetime = lifetime;
        metrics.ObserveOpenStreams(() => Volatile.Read(ref open));
    }

    public int OpenStreams => Volatile.Read(ref open);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.DeclareSeries();
        revocations.Revoked += OnRevoked;
        sweeper = time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
        // Streams never end by themselves: without this, graceful shutdown would wait its whole timeout for them.
        lifetime.ApplicationStopping.Register(() => EndAll(StreamEnd.ShuttingDown));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        revocations.Revoked -= OnRevoked;
        sweeper?.Dispose();
        EndAll(StreamEnd.ShuttingDown);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A new stream for a caller, or why not: too many streams on this instance, or of that user — across the gateway
    /// instances (<see cref="StreamLeases"/>), or on this one while Redis cannot count them.
    /// </summary>
    public async Task<(EventSubscriber? Subscriber, string? Refusal)> TryOpenAsync(Guid userId, Guid sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var subscriber = new EventSubscriber(userId, sessionId, expiresAt, settings.BufferPerStream, time.GetUtcNow());
        lock (admission)
        {
            if (open >= settings.MaxStreams)
            {
                metrics.Rejected("instance");
                return (null, $"This gateway instance holds its maximum of {settings.MaxStreams} event streams.");
            }
            var streams = byUser.GetOrAdd(userId, _ => new());
            if (streams.Count >= settings.MaxStreamsPerUser)
            {
                metrics.Rejected("user");
                return (null, PerUserRefusal(settings));
            }
            // Registered before the fleet's count is asked, so this instance's own limit holds for concurrent opens.
            streams[subscriber] = 0;
            bySession.GetOrAdd(sessionId, _ => new())[subscriber] = 0;
            open++;
        }
        bool? taken;
        try
        {
            taken = await leases.TryTakeAsync(userId, cancellationToken);
        }
        catch
        {
            Unregister(subscriber);
            subscriber.End(StreamEnd.Closed);
            throw;
        }
        if (taken == false)
        {
            Unregister(subscriber);
            subscriber.End(StreamEnd.Closed);
            metrics.Rejected("user");
            return (null, PerUserRefusal(settings));
        }
        // A revocation that arrived between authentication and registration would otherwise be missed.
        if (revocations.IsRevoked(sessionId))
        {
            Terminate(subscriber, "revoked");
        }
        return (subscriber, null);
    }

    public async Task CloseAsync(EventSubscriber subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        if (Unregister(subscriber))
        {
            await leases.ReleaseAsync(subscriber.UserId);
        }
        subscriber.End(StreamEnd.Closed);
    }

    private static string PerUserRefusal(EventStreamOptions settings) =>
        $"At most {settings.MaxStreamsPerUser} event streams per user may be open at once; close one first.";

    private bool Unregister(EventSubscriber subscriber)
    {
        var removed = false;
        lock (admission)
        {
            if (byUser.TryGetValue(subscriber.UserId, out var streams) && streams.TryRemove(subscriber, out _))
            {
                removed = true;
                open--;
                if (streams.IsEmpty)
                {
                    byUser.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<EventSubscriber, byte>>(subscriber.UserId, streams));
                }
            }
            if (bySession.TryGetValue(subscriber.SessionId, out var sessions) && sessions.TryRemove(subscriber, out _) && sessions.IsEmpty)
            {
                bySession.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<EventSubscriber, byte>>(subscriber.SessionId, sessions));
            }
        }
        return removed;
    }

    /// <summary>Hands an event to every local stream of its user; a <c>session.terminated</c> for a stream's own session ends it after the event.</summary>
    public void Deliver(ClientEvent clientEvent)
    {
        ArgumentNullException.ThrowIfNull(clientEvent);
        if (!byUser.TryGetValue(clientEvent.UserId, out var streams))
        {
            return;
        }
        foreach (var subscriber in streams.Keys)
        {
            if (!clientEvent.IsFor(subscriber.SessionId))
            {
                continue;
            }
            if (!subscriber.TryEnqueue(clientEvent))
            {
                metrics.Dropped("slow-client");
                continue;
            }
            if (clientEvent.TerminatedSession == subscriber.SessionId)
            {
                subscriber.End(StreamEnd.SessionTerminated);
            }
        }
    }

    private void OnRevoked(Guid sessionId)
    {
        if (bySession.TryGetValue(sessionId, out var streams))
        {
            foreach (var subscriber in streams.Keys)
            {
                Terminate(subscriber, "revoked");
            }
        }
    }

    private static void Terminate(EventSubscriber subscriber, string reason)
    {
        if (subscriber.TryEnqueue(EventProjection.Terminated(subscriber.UserId, subscriber.SessionId, reason)))
        {
            subscriber.End(StreamEnd.SessionTerminated);
        }
        else
        {
            subscriber.End(StreamEnd.Overflowed);
        }
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        var keepAlive = TimeSpan.FromSeconds(options.Value.KeepAliveSeconds);
        foreach (var streams in byUser.Values)
        {
            foreach (var subscriber in streams.Keys)
            {
                if (subscriber.ExpiresAt <= now)
                {
                    subscriber.End(StreamEnd.TokenExpired);
                }
                else if (revocations.IsRevoked(subscriber.SessionId))
                {
                    Terminate(subscriber, "revoked");
                }
                else if (now - subscriber.LastActivity >= keepAlive)
                {
                    subscriber.RequestKeepAlive(now);
                }
            }
        }
    }

    private void EndAll(StreamEnd reason)
    {
        foreach (var streams in byUser.Values)
        {
            foreach (var subscriber in streams.Keys)
            {
                subscriber.End(reason);
            }
        }
    }

    public void Dispose() => sweeper?.Dispose();
}

public enum StreamEnd
{
    Closed,
    SessionTerminated,
    TokenExpired,
    Overflowed,
    ShuttingDown,
}

/// <summary>
/// One open stream: a bounded queue of events for its writer, drained by the request that serves the stream. When a
/// client falls <see cref="EventStreamOptions.BufferPerStream"/> events behind, its stream ends (it resumes from the
/// log with its Last-Event-ID) instead of holding memory without bound.
/// </summary>
public sealed class EventSubscriber
{
    private readonly Channel<ClientEvent?> queue;
    private long lastActivityTicks;
    private int ended = -1;

    public EventSubscriber(Guid userId, Guid sessionId, DateTimeOffset expiresAt, int capacity, DateTimeOffset now)
    {
        UserId = userId;
        SessionId = sessionId;
        ExpiresAt = expiresAt;
        lastActivityTicks = now.UtcTicks;
        // One extra slot for a keep-alive (null) or a final event.
        queue = Channel.CreateBounded<ClientEvent?>(new BoundedChannelOptions(capacity + 1)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public Guid UserId { get; }

    public Guid SessionId { get; }

    public DateTimeOffset ExpiresAt { get; }

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref lastActivityTicks), TimeSpan.Zero);

    /// <summary>Why the stream ended; null while it is open.</summary>
    public StreamEnd? EndReason => Volatile.Read(ref ended) is var value and >= 0 ? (StreamEnd)value : null;

    /// <summary>Items to write: an event, or null for a keep-alive comment. Completes when the stream must end.</summary>
    public ChannelReader<ClientEvent?> Reader => queue.Reader;

    public bool TryEnqueue(ClientEvent clientEvent)
    {
        if (queue.Writer.TryWrite(clientEvent))
        {
            return true;
        }
        End(StreamEnd.Overflowed);
        return false;
    }

    public void RequestKeepAlive(DateTimeOffset now)
    {
        Interlocked.Exchange(ref lastActivityTicks, now.UtcTicks);
        queue.Writer.TryWrite(null);
    }

    public void Wrote(DateTimeOffset now) => Interlocked.Exchange(ref lastActivityTicks, now.UtcTicks);

    /// <summary>Ends the stream once what is queued has been written; the first reason wins.</summary>
    public void End(StreamEnd reason)
    {
        if (Interlocked.CompareExchange(ref ended, (int)reason, -1) == -1)
        {
            queue.Writer.TryComplete();
        }
    }
}
