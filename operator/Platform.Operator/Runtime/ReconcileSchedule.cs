namespace Platform.Operator.Runtime;

/// <summary>
/// The work queue of a controller: keys to reconcile, each at most once in the queue (the earliest due time wins), delivered when due.
/// Failures back off exponentially per key with jitter; a success forgets the key's failures.
/// </summary>
public sealed class ReconcileSchedule(TimeProvider clock, TimeSpan baseBackoff, TimeSpan maxBackoff)
{
    /// <summary>A timer cannot wait longer than 49.7 days (a 90-day rotation asks for more); a long wait is taken in steps.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    private readonly Lock gate = new();
    private readonly Dictionary<string, DateTimeOffset> due = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> failures = new(StringComparer.Ordinal);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count
    {
        get
        {
            lock (gate)
            {
                return due.Count;
            }
        }
    }

    public void Add(string key) => AddAt(key, clock.GetUtcNow());

    public void AddAt(string key, DateTimeOffset when)
    {
        lock (gate)
        {
            if (due.TryGetValue(key, out var existing) && existing <= when)
            {
                return;
            }
            due[key] = when;
            Signal();
        }
    }

    /// <summary>Requeues after a failure: base × 2^(failures−1), capped, ±20 % jitter so failing keys do not retry in lockstep.</summary>
    public TimeSpan AddAfterFailure(string key)
    {
        TimeSpan delay;
        lock (gate)
        {
            var count = failures[key] = failures.GetValueOrDefault(key) + 1;
            var exponential = baseBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(count - 1, 20));
            var capped = Math.Min(exponential, maxBackoff.TotalMilliseconds);
            delay = TimeSpan.FromMilliseconds(capped * (0.8 + (Random.Shared.NextDouble() * 0.4)));
        }
        AddAt(key, clock.GetUtcNow() + delay);
        return delay;
    }

    public void Forget(string key)
    {
        lock (gate)
        {
            failures.Remove(key);
        }
    }

    /// <summary>The next due key, waiting for it; the key leaves the queue (a later Add puts it back).</summary>
    public async Task<string> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wake;
            TimeSpan wait;
            lock (gate)
            {
                var now = clock.GetUtcNow();
                if (due.Count > 0)
                {
                    var (key, when) = due.MinBy(entry => entry.Value);
                    if (when <= now)
                    {
                        due.Remove(key);
                        return key;
                    }
                    wait = when - now < LongestWait ? when - now : LongestWait;
                }
                else
                {
                    wait = Timeout.InfiniteTimeSpan;
                }
                wake = changed.Task;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = wait == Timeout.InfiniteTimeSpan ? Task.Delay(Timeout.Infinite, timeout.Token) : Task.Delay(wait, clock, timeout.Token);
            await Task.WhenAny(wake, delay);
            await timeout.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private void Signal()
    {
        var previous = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }
}
