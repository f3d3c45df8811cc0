using System.Collections.Concurrent;

namespace Platform.Gateway.RateLimiting;

/// <summary>
/// Permits a gateway instance already took from Redis for a client and hands out locally. They were charged in
/// Redis when taken, so leasing never admits more than the shared budget allows; a lease lapses after
/// <see cref="Lifetime"/> so an idle instance does not sit on a client's permits for long (the client may then
/// get up to a lease's worth fewer permits than its limit — never more).
/// </summary>
public sealed class PermitLeases(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    private const int SweepThreshold = 50_000;

    private readonly ConcurrentDictionary<string, Lease> leases = new(StringComparer.Ordinal);

    /// <summary>
    /// How many permits one Redis decision may take for a policy: a tenth of the burst, at most 100 — 1 for the
    /// small anonymous budgets (login, register), so those stay exact per request.
    /// </summary>
    public static int SizeFor(Gcra gcra) => Math.Clamp(gcra.Burst / 10, 1, 100);

    /// <summary>Takes a leased permit for the key if one is left: the decision to answer with, or null.</summary>
    public RateLimitDecision? TryTake(string key)
    {
        if (!leases.TryGetValue(key, out var lease))
        {
            return null;
        }
        var now = time.GetTimestamp();
        lock (lease)
        {
            if (lease.Left == 0 || now >= lease.ExpiresAt)
            {
                return null;
            }
            lease.Left--;
            return lease.First with { Remaining = lease.First.Remaining + lease.Left };
        }
    }

    /// <summary>Keeps the permits beyond the first of a Redis decision for the key's next requests.</summary>
    public void Keep(string key, int granted, RateLimitDecision first)
    {
        if (granted <= 1)
        {
            return;
        }
        leases[key] = new Lease { Left = granted - 1, First = first, ExpiresAt = time.GetTimestamp() + (long)(Lifetime.TotalSeconds * time.TimestampFrequency) };
        if (leases.Count > SweepThreshold)
        {
            var now = time.GetTimestamp();
            foreach (var (staleKey, stale) in leases)
            {
                if (now >= stale.ExpiresAt)
                {
                    leases.TryRemove(new KeyValuePair<string, Lease>(staleKey, stale));
                }
            }
        }
    }

    private sealed class Lease
    {
        public int Left { get; set; }

        public RateLimitDecision First { get; init; }

        public long ExpiresAt { get; init; }
    }
}
