namespace Platform.Auth.Passwords;

/// <summary>
/// The login throttle's rules in one replica's memory, for while Redis is down: the same scopes, counts and blocks as
/// <see cref="LoginThrottle"/>'s scripts, under one lock instead of Redis's single thread. It holds at most
/// <see cref="Capacity"/> scopes. When it is full (a spray of addresses while Redis is down) it first forgets the scopes
/// that matter least — no block, nothing in flight, fewer failures than the free ones — and only when none is left
/// refuses a new scope rather than let it in uncounted; a blocked scope is never forgotten before its time.
/// </summary>
internal sealed class LoginThrottleMemory(TimeProvider clock)
{
    public const int Capacity = 100_000;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, Counts> states = [];
    private readonly Lock gate = new();
    private DateTimeOffset lastPruned = DateTimeOffset.MinValue;

    public TimeSpan Begin(ThrottleKeys keys)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (State(keys.AddressFailures.ToString(), now) is not { } address || State(keys.AccountFailures.ToString(), now) is not { } account)
            {
                return LoginThrottle.InFlightRetry;
            }
            if (address.BlockedUntil > now)
            {
                return address.BlockedUntil - now;
            }
            if (account.Failures >= LoginThrottle.AccountFailures)
            {
                return account.WindowEnds - now;
            }
            if (account.Failures + account.InFlight >= LoginThrottle.AccountFailures
                || address.InFlight >= Math.Max(1, LoginThrottle.FreeFailures - address.Failures))
            {
                return LoginThrottle.InFlightRetry;
            }
            address.InFlight++;
            account.InFlight++;
            return TimeSpan.Zero;
        }
    }

    public void End(ThrottleKeys keys, LoginOutcome outcome, bool reserved)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (State(keys.AddressFailures.ToString(), now) is not { } address || State(keys.AccountFailures.ToString(), now) is not { } account)
            {
                return; // reserved in Redis, which went away since, and no room here: the failure goes uncounted
            }
            if (reserved)
            {
                address.InFlight = Math.Max(0, address.InFlight - 1);
                account.InFlight = Math.Max(0, account.InFlight - 1);
            }
            if (outcome == LoginOutcome.Failed)
            {
                address.Failures++;
                var block = TimeSpan.Zero;
                if (address.Failures > LoginThrottle.FreeFailures)
                {
                    block = TimeSpan.FromMilliseconds(Math.Min(1000 * Math.Pow(2, address.Failures - LoginThrottle.FreeFailures - 1), LoginThrottle.MaxBlock.TotalMilliseconds));
                    address.BlockedUntil = now + block;
                }
                address.WindowEnds = now + block + LoginThrottle.Window;
                if (account.Failures++ == 0)
                {
                    account.WindowEnds = now + LoginThrottle.Window;
                }
            }
            else if (outcome == LoginOutcome.Succeeded)
            {
                address.Failures = 0;
                address.BlockedUntil = DateTimeOffset.MinValue;
            }
        }
    }

    public void Clear(ThrottleKeys keys)
    {
        lock (gate)
        {
            if (states.TryGetValue(keys.AddressFailures.ToString(), out var address))
            {
                address.Failures = 0;
                address.BlockedUntil = DateTimeOffset.MinValue;
            }
            if (states.TryGetValue(keys.AccountFailures.ToString(), out var account))
            {
                account.Failures = 0;
            }
        }
    }

    /// <summary>
    /// The scope's counts — new ones once its failure window has passed, in-flight reservations carried over — or null
    /// when it is new and every place is taken by a live scope.
    /// </summary>
    private Counts? State(string key, DateTimeOffset now)
    {
        if (states.TryGetValue(key, out var counts))
        {
            if (counts.WindowEnds <= now)
            {
                counts.Failures = 0;
            }
            return counts;
        }
        if (states.Count >= Capacity && (now - lastPruned < PruneInterval || Prune(now) >= Capacity))
        {
            return null;
        }
        counts = new Counts();
        states[key] = counts;
        return counts;
    }

    private int Prune(DateTimeOffset now)
    {
        lastPruned = now;
        foreach (var (key, counts) in states)
        {
            if (counts.InFlight == 0 && counts.BlockedUntil <= now && (counts.WindowEnds <= now || counts.Failures < LoginThrottle.FreeFailures))
            {
                states.Remove(key);
            }
        }
        return states.Count;
    }

    private sealed class Counts
    {
        public int Failures { get; set; }

        public int InFlight { get; set; }

        public DateTimeOffset WindowEnds { get; set; }

        public DateTimeOffset BlockedUntil { get; set; }
    }
}
