using System.ComponentModel.DataAnnotations;

namespace Platform.Messaging;

/// <summary>Tuning of the outbox dispatcher, bound from the "Outbox" configuration section.</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    /// <summary>Rows locked, published concurrently and confirmed per round; also the most publishes in flight.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// The dispatcher looks at the outbox at least this often even without a notification: after a reconnect of
    /// its listening connection, and for rows whose retry time has come.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan IdleWakeInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Delay before the first retry of a row the broker did not confirm; doubles with each attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00.1", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a batch may wait for confirmations; unconfirmed rows are retried (and may arrive twice).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the dispatcher counts the outbox for <c>outbox_pending</c>; scrapes read the last count.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00")]
    public TimeSpan PendingCountInterval { get; set; } = TimeSpan.FromSeconds(5);
}
