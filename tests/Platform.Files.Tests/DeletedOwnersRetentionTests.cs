using Platform.Files.Data;

namespace Platform.Files.Tests;

/// <summary>The tombstone's minimum horizon follows the longest upload the limits allow.</summary>
public sealed class DeletedOwnersRetentionTests
{
    [Theory]
    [InlineData(100L * 1024 * 1024, 6, 30)] // 5.06 days at 240 B/s, plus an access token's hour
    [InlineData(1024L * 1024 * 1024, 52, 52)] // 51.8 days: the default follows the minimum up
    [InlineData(0L, 1, 30)]
    [InlineData(long.MaxValue, 3651, 3651)]
    public void The_minimum_covers_the_slowest_largest_upload_and_the_default_is_never_below_it(long maxFileBytes, int minimumDays, int defaultDays)
    {
        var rule = DeletedOwnersRetention.For(maxFileBytes);

        Assert.Equal(TimeSpan.FromDays(minimumDays), rule.MinimumHorizon);
        Assert.Equal(TimeSpan.FromDays(defaultDays), rule.DefaultHorizon);
    }
}
