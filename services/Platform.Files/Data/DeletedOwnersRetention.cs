using Platform.Data.Retention;

namespace Platform.Files.Data;

/// <summary>
/// How long the tombstone of a deleted user is kept. It exists for uploads that commit after the purge: one already
/// streaming when <c>user.deleted</c> was handled, or one started with an access token issued before the account
/// went (at most an hour: <c>Tokens:AccessTokenMinutes</c> ≤ 60). Nothing bounds an upload's length but Kestrel's
/// minimum body data rate (240 bytes/s), so the longest upload is <c>Files:MaxFileBytes</c> at that rate: about
/// 5 days at the default 100 MB. A redelivered <c>user.deleted</c> needs no tombstone (<c>processed_events</c>
/// skips it, and purging again would be harmless), and user ids are never reused. The minimum is the longest upload
/// plus that hour, at least a day; the default is 30 days, or the minimum if that is longer.
/// </summary>
public static class DeletedOwnersRetention
{
    private const double KestrelMinimumBodyBytesPerSecond = 240;
    private static readonly TimeSpan LongestAccessToken = TimeSpan.FromHours(1);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    public static RetentionRule For(long maxFileBytes)
    {
        var longestUpload = TimeSpan.FromSeconds(Math.Min(maxFileBytes / KestrelMinimumBodyBytesPerSecond, Longest.TotalSeconds));
        var minimum = TimeSpan.FromDays(Math.Ceiling((longestUpload + LongestAccessToken).TotalDays));
        return new RetentionRule(
            "deleted_owners",
            "deleted_at",
            DefaultHorizon: minimum > TimeSpan.FromDays(30) ? minimum : TimeSpan.FromDays(30),
            MinimumHorizon: minimum,
            $"an upload of up to Files:MaxFileBytes ({maxFileBytes} bytes) at Kestrel's minimum rate of 240 bytes/s, started with an access token issued before the user was deleted, must still find the tombstone when it commits.");
    }
}
