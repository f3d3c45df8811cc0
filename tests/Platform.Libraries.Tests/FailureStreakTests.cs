using System.Diagnostics;
using Platform.Hosting;

namespace Platform.Libraries.Tests;

/// <summary>The failure count the background loops (outbox, consumers, listener, mail) retry with.</summary>
public sealed class FailureStreakTests
{
    [Fact]
    public void Only_the_first_failure_of_a_streak_is_reported_and_its_end_says_how_many_there_were()
    {
        var streak = new FailureStreak();

        Assert.Equal(0, streak.Ended());
        Assert.True(streak.Failed());
        Assert.False(streak.Failed());
        Assert.False(streak.Failed());
        Assert.Equal(3, streak.Ended());
        Assert.Equal(0, streak.Ended());
        Assert.True(streak.Failed());
    }

    [Fact]
    public async Task The_wait_grows_with_the_streak_up_to_its_cap_and_ends_at_once_when_stopping()
    {
        var streak = new FailureStreak(TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(100));
        streak.Failed();
        var first = Stopwatch.StartNew();
        Assert.True(await streak.WaitAsync(CancellationToken.None));
        Assert.True(first.Elapsed >= TimeSpan.FromMilliseconds(35), $"{first.ElapsedMilliseconds} ms");
        for (var i = 0; i < 10; i++)
        {
            streak.Failed();
        }
        var capped = Stopwatch.StartNew();
        Assert.True(await streak.WaitAsync(CancellationToken.None));
        Assert.True(capped.Elapsed >= TimeSpan.FromMilliseconds(95), $"{capped.ElapsedMilliseconds} ms");

        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        Assert.False(await streak.WaitAsync(stopping.Token));
    }
}
