using System.Diagnostics.Metrics;

namespace Platform.Messaging;

/// <summary>
/// The outbox's instruments on the "Platform.Messaging" meter, exported as <c>outbox_pending</c>,
/// <c>outbox_oldest_pending_age_seconds</c>, <c>outbox_published_total</c> and <c>outbox_publish_failures_total</c>.
/// The pending gauges report the dispatcher's last count, so a scrape never queries the database; the age is
/// computed at the scrape from the oldest pending event's time, so it keeps growing while the dispatcher is stuck.
/// </summary>
internal sealed class OutboxMetrics
{
    public const string MeterName = "Platform.Messaging";

    private readonly Counter<long> published;
    private readonly Counter<long> publishFailures;
    private long pending = -1;
    private long oldestPendingTicks;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        published = meter.CreateCounter<long>("outbox.published", "{event}", "Events published from the outbox and confirmed by the broker.");
        publishFailures = meter.CreateCounter<long>("outbox.publish_failures", "{event}", "Publishes the broker refused or did not confirm; those events stay in the outbox and are retried.");
        meter.CreateObservableGauge("outbox.pending", ObservePending, "{event}", "Events in the outbox, not yet confirmed by the broker.");
        meter.CreateObservableGauge("outbox.oldest_pending.age", ObserveOldestPendingAge, "s",
            "How long the oldest event in the outbox has waited for the broker; 0 when the outbox is empty.");
    }

    public void Published(int count) => published.Add(count);

    public void PublishFailed(int count) => publishFailures.Add(count);

    /// <summary>The last count, and when the oldest of those events occurred (null: none pending).</summary>
    public void SetPending(long count, DateTimeOffset? oldestOccurredAt)
    {
        Volatile.Write(ref oldestPendingTicks, oldestOccurredAt?.UtcTicks ?? 0);
        Volatile.Write(ref pending, count);
    }

    /// <summary>Nothing until the first count: a made-up zero would look like an empty outbox.</summary>
    private IEnumerable<Measurement<long>> ObservePending()
    {
        var count = Volatile.Read(ref pending);
        return count < 0 ? [] : [new Measurement<long>(count)];
    }

    private IEnumerable<Measurement<double>> ObserveOldestPendingAge()
    {
        if (Volatile.Read(ref pending) < 0)
        {
            return [];
        }
        var oldest = Volatile.Read(ref oldestPendingTicks);
        return [new Measurement<double>(oldest == 0 ? 0 : Math.Max(0, (DateTimeOffset.UtcNow.UtcTicks - oldest) / (double)TimeSpan.TicksPerSecond))];
    }
}
