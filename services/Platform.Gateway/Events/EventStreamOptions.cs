using System.ComponentModel.DataAnnotations;

namespace Platform.Gateway.Events;

/// <summary>The <c>EventStream</c> section: <c>GET /api/events</c>, its limits and its resume log.</summary>
public sealed class EventStreamOptions
{
    public const string Section = "EventStream";

    /// <summary>Off: no route, no broker connection, no queue.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Seconds between keep-alive comments on an idle stream, so proxies and clients see it alive.</summary>
    [Range(1, 300)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// Open streams one user may hold across all gateway instances (<see cref="StreamLeases"/>); one more is a 429. While
    /// Redis cannot count them, each instance holds a user to this many of its own.
    /// </summary>
    [Range(1, 1_000)]
    public int MaxStreamsPerUser { get; set; } = 8;

    /// <summary>Open streams on one gateway instance; one more is a 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxStreams { get; set; } = 10_000;

    /// <summary>How long the resume log keeps a user's events (the Redis stream <c>events:{user}</c>).</summary>
    [Range(10, 7 * 86_400)]
    public int RetentionSeconds { get; set; } = 3_600;

    /// <summary>At most this many events per user in the resume log; older ones are trimmed first.</summary>
    [Range(10, 100_000)]
    public int MaxEventsPerUser { get; set; } = 1_000;

    /// <summary>
    /// Events waiting to be written to one slow client; when a client falls this far behind its stream ends, and it
    /// resumes from the log with its Last-Event-ID.
    /// </summary>
    [Range(8, 100_000)]
    public int BufferPerStream { get; set; } = 256;

    /// <summary>
    /// How long the broker keeps this instance's queue after its consumer went away (a crash, a network split). It
    /// outlives a broker restart, so connected clients lose nothing; a gateway that stops cleanly deletes it at once.
    /// </summary>
    [Range(10, 86_400)]
    public int QueueExpirySeconds { get; set; } = 300;
}
