using System.Collections.Concurrent;

namespace Platform.Gateway.RateLimiting;

/// <summary>
/// The same GCRA in this process, for when Redis is unreachable: limits then hold per gateway instance instead
/// of across all of them. Entries whose budget is full again are swept, so memory follows the active clients.
/// </summary>
public sealed class MemoryRateLimiter(TimeProvider time)
{
    private const int SweepThreshold = 100_000;

    private readonly ConcurrentDictionary<string, long> tats = new(StringComparer.Ordinal);

    public int Count => tats.Count;

    public RateLimitDecision Acquire(string key, Gcra gcra)
    {
        var now = Now();
        while (true)
        {
            var stored = tats.GetValueOrDefault(key);
            var decision = gcra.Decide(stored, now, out var newTat);
            if (!decision.Allowed)
            {
                return decision;
            }
            var swapped = stored == 0 ? tats.TryAdd(key, newTat) : tats.TryUpdate(key, newTat, stored);
            if (swapped)
            {
                if (stored == 0 && tats.Count > SweepThreshold)
                {
                    Sweep(now);
                }
                return decision;
            }
        }
    }

    /// <summary>Forgets clients whose TAT has passed: their next request starts from a full budget either way.</summary>
    public void Sweep() => Sweep(Now());

    private void Sweep(long now)
    {
        foreach (var (key, tat) in tats)
        {
            if (tat <= now)
            {
                tats.TryRemove(new KeyValuePair<string, long>(key, tat));
            }
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000;
}
