using System.Net;
using Microsoft.Extensions.Time.Testing;
using Platform.Auth.Passwords;

namespace Platform.Auth.Tests;

/// <summary>The throttle's rules as one replica keeps them while Redis is down, on a clock the test moves.</summary>
public sealed class LoginThrottleMemoryTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly LoginThrottleMemory memory;
    private readonly ThrottleKeys keys = ThrottleKeys.Of("someone@example.org", IPAddress.Parse("203.0.113.9"));

    public LoginThrottleMemoryTests() => memory = new LoginThrottleMemory(clock);

    [Fact]
    public void A_guesser_who_waits_out_the_longest_block_goes_on_at_the_longest_block()
    {
        for (var i = 0; i < 15; i++)
        {
            Fail(keys);
            clock.Advance(Wait(keys));
        }
        Fail(keys); // the 16th: 2^10 s, held at the 15-minute maximum
        Assert.Equal(LoginThrottle.MaxBlock, Wait(keys));

        clock.Advance(LoginThrottle.MaxBlock);
        Fail(keys);

        Assert.Equal(LoginThrottle.MaxBlock, Wait(keys)); // not five free guesses again
    }

    [Fact]
    public void A_fresh_address_may_have_only_its_free_failures_in_flight_and_one_at_a_time_once_they_are_spent()
    {
        for (var i = 0; i < LoginThrottle.FreeFailures; i++)
        {
            Assert.Equal(TimeSpan.Zero, memory.Begin(keys));
        }
        Assert.Equal(LoginThrottle.InFlightRetry, memory.Begin(keys));

        for (var i = 0; i < LoginThrottle.FreeFailures; i++)
        {
            memory.End(keys, LoginOutcome.Failed, reserved: true);
        }

        Assert.Equal(TimeSpan.Zero, memory.Begin(keys));
        Assert.Equal(LoginThrottle.InFlightRetry, memory.Begin(keys));
    }

    [Fact]
    public void The_accounts_cap_holds_until_its_window_ends_from_the_first_failure()
    {
        for (var i = 0; i < LoginThrottle.AccountFailures; i++)
        {
            Fail(ThrottleKeys.Of("someone@example.org", IPAddress.Parse($"198.18.{i / 4}.{i % 4 + 1}")));
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        var owner = ThrottleKeys.Of("someone@example.org", IPAddress.Parse("192.0.2.55"));

        Assert.Equal(LoginThrottle.Window - TimeSpan.FromSeconds(LoginThrottle.AccountFailures), memory.Begin(owner));
        clock.Advance(LoginThrottle.Window - TimeSpan.FromSeconds(LoginThrottle.AccountFailures));
        Assert.Equal(TimeSpan.Zero, memory.Begin(owner));
    }

    [Fact]
    public void When_every_place_holds_a_live_scope_a_new_one_is_refused_not_let_in_uncounted()
    {
        for (var i = 0; i < LoginThrottleMemory.Capacity / 2; i++)
        {
            Assert.Equal(TimeSpan.Zero, memory.Begin(ThrottleKeys.Of($"sprayed-{i}@example.org", IPAddress.Parse("203.0.113.1"))));
        }

        Assert.Equal(LoginThrottle.InFlightRetry, memory.Begin(keys));
        clock.Advance(TimeSpan.FromSeconds(2)); // the sprayed attempts are still in flight: nothing can be pruned
        Assert.Equal(LoginThrottle.InFlightRetry, memory.Begin(keys));
    }

    [Fact]
    public void When_full_it_forgets_the_scopes_with_few_failures_first_and_never_a_blocked_one()
    {
        for (var i = 0; i <= LoginThrottle.FreeFailures; i++)
        {
            Fail(keys);
        }
        Assert.True(Wait(keys) > TimeSpan.Zero);

        for (var i = 0; i < LoginThrottleMemory.Capacity / 2; i++)
        {
            Fail(ThrottleKeys.Of($"sprayed-{i}@example.org", IPAddress.Parse("203.0.113.1"))); // each a new address scope and account scope
        }

        Assert.True(Wait(keys) > TimeSpan.Zero, "the blocked address was forgotten to make room");
        Assert.Equal(TimeSpan.Zero, memory.Begin(ThrottleKeys.Of("newcomer@example.org", IPAddress.Parse("198.51.100.1"))));
    }

    private void Fail(ThrottleKeys at)
    {
        Assert.Equal(TimeSpan.Zero, memory.Begin(at));
        memory.End(at, LoginOutcome.Failed, reserved: true);
    }

    /// <summary>How long the address must wait now (zero when it may try).</summary>
    private TimeSpan Wait(ThrottleKeys at)
    {
        var wait = memory.Begin(at);
        if (wait == TimeSpan.Zero)
        {
            memory.End(at, LoginOutcome.Unchecked, reserved: true);
        }
        return wait;
    }
}
