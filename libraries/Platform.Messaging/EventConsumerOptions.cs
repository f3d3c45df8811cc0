using System.ComponentModel.DataAnnotations;

namespace Platform.Messaging;

public sealed class EventConsumerOptions
{
    /// <summary>Messages the broker sends ahead of acknowledgements.</summary>
    [Range(1, 1_000)]
    public ushort Prefetch { get; set; } = 32;

    /// <summary>
    /// Events handled at once. One keeps delivery order (as far as retries allow); more is faster for handlers
    /// that do not care about order.
    /// </summary>
    [Range(1, 64)]
    public ushort Concurrency { get; set; } = 1;

    /// <summary>Deliveries of one event, counted by the broker, before a failing event is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxDeliveryAttempts { get; set; } = 5;
}
