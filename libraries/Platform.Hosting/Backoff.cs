namespace Platform.Hosting;

/// <summary>Exponential delays for retrying against a dependency that is down: quick at first, then capped.</summary>
public static class Backoff
{
    /// <summary>The delay before retry number <paramref name="failures"/> (1 for the first retry).</summary>
    public static TimeSpan Delay(int failures, TimeSpan initial, TimeSpan max)
    {
        var doublings = Math.Clamp(failures - 1, 0, 30);
        var delay = initial.TotalMilliseconds * Math.Pow(2, doublings);
        return TimeSpan.FromMilliseconds(Math.Min(delay, max.TotalMilliseconds));
    }
}
