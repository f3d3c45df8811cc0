namespace Platform.Hosting;

/// <summary>
/// The failures in a row of a background loop whose dependency (PostgreSQL, RabbitMQ, an SMTP relay) is away. The
/// loop keeps trying rather than stop while the service looks healthy; it logs the first failure of a streak and the
/// streak's end rather than every attempt, and waits a little longer after each failure (by default 250 ms doubling to
/// 5 s: trying a dead dependency costs nothing, and one that is back should be used within seconds).
/// </summary>
public sealed class FailureStreak(TimeSpan firstDelay, TimeSpan maxDelay)
{
    public FailureStreak()
        : this(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5))
    {
    }

    public int Count { get; private set; }

    /// <summary>Counts a failure; true for the first of a streak, the one worth a log line.</summary>
    public bool Failed() => ++Count == 1;

    /// <summary>Ends the streak: how many failures it had, 0 if there was none.</summary>
    public int Ended()
    {
        var count = Count;
        Count = 0;
        return count;
    }

    /// <summary>Waits before the next attempt, longer the longer the streak; false when the host is stopping.</summary>
    public async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Backoff.Delay(Count, firstDelay, maxDelay), stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
