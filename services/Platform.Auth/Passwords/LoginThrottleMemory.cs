using Microsoft.Extensions.Caching.Memory;

namespace Platform.Auth.Passwords;

/// <summary>
/// The login throttle's rules in one replica's memory, for while Redis is down: the same scopes, counts and blocks as
/// <see cref="LoginThrottle"/>'s scripts, under one lock instead of Redis's single thread.
/// </summary>
internal sealed class LoginThrottleMemory(TimeProvider clock) : IDisposable
{
    private readonly MemoryCache states = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly Lock gate = new();

    public TimeSpan Begin(ThrottleKeys keys)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            var address = State(keys.AddressFailures.ToString(), now);
            var account = State(keys.AccountFailures.ToString(), now);
            if (address.BlockedUntil > now)
            {
                return address.BlockedUntil - now;
            }
            if (account.Failures >= LoginThrottle.AccountFailures)
            {
                return account.WindowEnds - now;
            }
            if (account.Failures + account.InFlight >= LoginThrottle.AccountFailures
                || (address.Failures > 0 && address.InFlight >= Math.Max(1, LoginThrottle.FreeFailures - address.Failures)))
            {
                return LoginThrottle.InFlightRetry;
            }
            address.InFlight++;
            account.InFlight++;
            Store(keys.AddressFailures.ToString(), address, now);
            Store(keys.AccountFailures.ToString(), account, now);
            return TimeSpan.Zero;
        }
    }

    public void End(ThrottleKeys keys, LoginOutcome outcome, bool reserved)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            var address = State(keys.AddressFailures.ToString(), now);
            var account = State(keys.AccountFailures.ToString(), now);
            if (reserved)
            {
                address.InFlight = Math.Max(0, address.InFlight - 1);
                account.InFlight = Math.Max(0, account.InFlight - 1);
            }
            if (outcome == LoginOutcome.Failed)
            {
                address.Failures++;
                address.WindowEnds = now + LoginThrottle.Window;
                if (address.Failures > LoginThrottle.FreeFailures)
                {
                    var block = Math.Min(1000 * Math.Pow(2, address.Failures - LoginThrottle.FreeFailures - 1), LoginThrottle.MaxBlock.TotalMilliseconds);
                    address.BlockedUntil = now + TimeSpan.FromMilliseconds(block);
                }
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
            Store(keys.AddressFailures.ToString(), address, now);
            Store(keys.AccountFailures.ToString(), account, now);
        }
    }

    public void Clear(ThrottleKeys keys)
    {
        lock (gate)
        {
            states.Remove(keys.AddressFailures.ToString());
            if (states.TryGetValue(keys.AccountFailures.ToString(), out Counts? account))
            {
                account!.Failures = 0;
            }
        }
    }

    public void Dispose() => states.Dispose();

    /// <summary>The scope's counts, new ones once its failure window has passed; in-flight reservations carry over.</summary>
    private Counts State(string key, DateTimeOffset now)
    {
        if (!states.TryGetValue(key, out Counts? counts))
        {
            return new Counts();
        }
        if (counts!.WindowEnds <= now)
        {
            counts.Failures = 0;
        }
        return counts;
    }

    private void Store(string key, Counts counts, DateTimeOffset now)
    {
        var until = new[] { counts.WindowEnds, counts.BlockedUntil, now + LoginThrottle.InFlightLease }.Max();
        states.Set(key, counts, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = until });
    }

    private sealed class Counts
    {
        public int Failures { get; set; }

        public int InFlight { get; set; }

        public DateTimeOffset WindowEnds { get; set; }

        public DateTimeOffset BlockedUntil { get; set; }
    }
}
