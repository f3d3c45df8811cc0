using System.Diagnostics.Metrics;

namespace Platform.Messaging;

/// <summary>
/// Events a consumer gave up on, exported as <c>events_dead_lettered_total{queue}</c>: each is an action the
/// platform did not take (a purge, a cache invalidation) until someone replays it from the dead-letter queue.
/// </summary>
internal sealed class EventConsumerMetrics
{
    private readonly Counter<long> deadLettered;

    public EventConsumerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(OutboxMetrics.MeterName);
        deadLettered = meter.CreateCounter<long>("events.dead_lettered", "{event}", "Deliveries a consumer rejected to the dead-letter queue: malformed, or failed on every attempt.");
    }

    /// <summary>Starts the queue's series at zero, so the first dead letter is an increase an alert can see.</summary>
    public void Consuming(string queue) => deadLettered.Add(0, new KeyValuePair<string, object?>("queue", queue));

    public void DeadLettered(string queue) => deadLettered.Add(1, new KeyValuePair<string, object?>("queue", queue));
}
