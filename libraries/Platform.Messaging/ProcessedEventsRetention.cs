using Platform.Broker;
using Platform.Data.Retention;

namespace Platform.Messaging;

/// <summary>
/// How long a consumer remembers an event id. Dedupe matters only while another copy of the event can still arrive:
/// a requeued or unacknowledged delivery comes back within seconds (at most <see cref="EventConsumerOptions.MaxDeliveryAttempts"/>
/// deliveries, 5 s apart at most); a copy published again by an outbox whose confirm was lost comes when the
/// broker is back, and both copies then wait in the queue while a consumer is down, and are handled one after the
/// other when it returns. Consumer queues set no message TTL (<see cref="EventTopology"/>); if one ever does, the
/// horizon must exceed it. The longest gap we allow for is a dead letter moved back by hand from
/// <c>platform.events.dead</c> while its twin was handled: 7 days by default, so a week's investigation stays
/// safe. Below a day even a long broker or database outage could let a duplicate through, so that is refused.
/// </summary>
public static class ProcessedEventsRetention
{
    public static readonly RetentionRule Rule = new(
        "processed_events",
        "processed_at",
        DefaultHorizon: TimeSpan.FromDays(7),
        MinimumHorizon: TimeSpan.FromDays(1),
        "a redelivered or re-published event must still find its id to be skipped; keep it longer than any queue's message TTL and than dead letters wait before a replay.");
}
