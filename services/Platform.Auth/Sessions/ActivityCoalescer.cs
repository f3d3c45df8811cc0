using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Platform.Auth.Sessions;

/// <summary>
/// This replica's memory of when each session's activity last reached the database, so most activity calls of
/// an active client are answered without a database round trip. It is only a pre-check: the write itself is
/// conditional on the stored time (<see cref="SessionManager.RecordActivityAsync"/>), which is what keeps several
/// replicas to one write per session per interval between them. Entries older than the interval are useless and
/// are swept, so memory holds only the sessions active here recently.
/// </summary>
public sealed class ActivityCoalescer(IOptions<SessionOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> lastWritten = new();
    private long lastSweepTimestamp = clock.GetTimestamp();
    private int sweeping;

    private TimeSpan Interval => options.Value.ActivityWriteInterval;

    /// <summary>False when this replica wrote (or saw written) the session's activity within the interval.</summary>
    public bool MayNeedWrite(Guid sessionId, DateTimeOffset now)
    {
        SweepIfDue();
        return !lastWritten.TryGetValue(sessionId, out var written) || now - written >= Interval;
    }

    /// <summary>
    /// The session's activity is in the database as of <paramref name="at"/> — written here, or found recent enough
    /// that another replica must have written it.
    /// </summary>
    public void Recorded(Guid sessionId, DateTimeOffset at) => lastWritten[sessionId] = at;

    /// <summary>Sweeps on the thread pool: a request should not pay for walking every entry.</summary>
    private void SweepIfDue()
    {
        if (clock.GetElapsedTime(Interlocked.Read(ref lastSweepTimestamp)) < Interval || Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static coalescer => coalescer.Sweep(), this, preferLocal: false);
    }

    private void Sweep()
    {
        try
        {
            var cutoff = clock.GetUtcNow() - Interval;
            foreach (var (sessionId, written) in lastWritten)
            {
                if (written <= cutoff)
                {
                    lastWritten.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(sessionId, written));
                }
            }
        }
        finally
        {
            Interlocked.Exchange(ref lastSweepTimestamp, clock.GetTimestamp());
            Volatile.Write(ref sweeping, 0);
        }
    }
}
