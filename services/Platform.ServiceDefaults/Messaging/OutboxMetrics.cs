using System.Diagnostics.Metrics;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// The outbox's instruments on the "Platform.Messaging" meter, exported as <c>outbox_pending</c>,
/// <c>outbox_published_total</c> and <c>outbox_publish_failures_total</c>. The pending gauge reports the
/// dispatcher's last count, so a scrape never queries the database.
/// </summary>
internal sealed class OutboxMetrics
{
    public const string MeterName = "Platform.Messaging";

    private readonly Counter<long> published;
    private readonly Counter<long> publishFailures;
    private long pending = -1;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        published = meter.CreateCounter<long>("outbox.published", "{event}", "Events published from the outbox and confirmed by the broker.");
        publishFailures = meter.CreateCounter<long>("outbox.publish_failures", "{event}", "Publishes the broker refused or did not confirm; those events stay in the outbox and are retried.");
        meter.CreateObservableGauge("outbox.pending", ObservePending, "{event}", "Events in the outbox, not yet confirmed by the broker.");
    }

    public void Published(int count) => published.Add(count);

    public void PublishFailed(int count) => publishFailures.Add(count);

    public void SetPending(long count) => Volatile.Write(ref pending, count);

    /// <summary>Nothing until the first count: a made-up zero would look like an empty outbox.</summary>
    private IEnumerable<Measurement<long>> ObservePending()
    {
        var count = Volatile.Read(ref pending);
        return count < 0 ? [] : [new Measurement<long>(count)];
    }
}
