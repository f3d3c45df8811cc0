namespace Platform.Gateway.RateLimiting;

/// <summary>
/// The generic cell rate algorithm: one number per client, the theoretical arrival time (TAT) of its next
/// request. A request is allowed when the TAT is at most <see cref="Tolerance"/> ahead of now; each allowed
/// request moves the TAT one <see cref="Interval"/> further. It needs no window reset, so a client cannot
/// double its budget at a window boundary as fixed windows allow. Times are microseconds.
/// </summary>
public readonly record struct Gcra(long Interval, long Tolerance, int Limit, int Burst)
{
    public static Gcra For(RateLimitPolicyOptions policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var interval = policy.WindowSeconds * 1_000_000L / policy.Limit;
        var burst = policy.Burst ?? policy.Limit;
        return new Gcra(Math.Max(interval, 1), Math.Max(interval, 1) * (burst - 1), policy.Limit, burst);
    }

    /// <summary>The decision for a client whose stored TAT is <paramref name="storedTat"/> (0: none), and the TAT to store when allowed.</summary>
    public RateLimitDecision Decide(long storedTat, long now, out long newTat)
    {
        var tat = Math.Max(storedTat, now);
        if (tat - now > Tolerance)
        {
            newTat = storedTat;
            return Denied(tat - now);
        }
        newTat = tat + Interval;
        return Allowed(newTat - now);
    }

    /// <summary>An allowed request, given how far ahead of now the new TAT is.</summary>
    public RateLimitDecision Allowed(long newTatAhead) =>
        new(true, Limit, (int)Math.Clamp((Tolerance + Interval - newTatAhead) / Interval, 0, Burst), 0, newTatAhead);

    /// <summary>A refused request, given how far ahead of now the stored TAT is.</summary>
    public RateLimitDecision Denied(long tatAhead) =>
        new(false, Limit, 0, Math.Max(tatAhead - Tolerance, 1), tatAhead);
}

/// <summary>What a limiter decided; <see cref="ResetMicroseconds"/> is when the client's full budget is back.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Limit, int Remaining, long RetryAfterMicroseconds, long ResetMicroseconds);
