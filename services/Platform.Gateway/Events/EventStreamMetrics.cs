using System.Diagnostics.Metrics;

namespace Platform.Gateway.Events;

/// <summary>
/// <c>gateway_event_streams_open</c>, <c>gateway_events_delivered_total</c> (events written to streams, replays
/// included), <c>gateway_event_stream_resyncs_total{reason}</c>, <c>gateway_event_stream_drops_total{reason}</c>
/// (a slow client's stream ended, an event the resume log could not take) and
/// <c>gateway_event_stream_rejected_total{limit}</c> (429s), all exported from start.
/// </summary>
public sealed class EventStreamMetrics
{
    private static readonly string[] ResyncReasons = ["malformed", "unknown", "unavailable"];
    private static readonly string[] DropReasons = ["slow-client", "log-unavailable"];
    private static readonly string[] Limits = ["user", "instance"];

    private readonly Meter meter;
    private readonly Counter<long> delivered;
    private readonly Counter<long> resyncs;
    private readonly Counter<long> drops;
    private readonly Counter<long> rejected;

    public EventStreamMetrics(GatewayMetrics gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        meter = gateway.Meter;
        delivered = meter.CreateCounter<long>("gateway.events.delivered", unit: "{event}",
            description: "Events written to clients' event streams, replays from the resume log included.");
        resyncs = meter.CreateCounter<long>("gateway.event_stream.resyncs", unit: "{event}",
            description: "resync events sent because a Last-Event-ID could not be resumed: malformed, unknown (expired, trimmed or not the caller's) or the log unavailable.");
        drops = meter.CreateCounter<long>("gateway.event_stream.drops", unit: "{event}",
            description: "Streams ended because their client fell behind (slow-client), and events the resume log could not take (log-unavailable).");
        rejected = meter.CreateCounter<long>("gateway.event_stream.rejected", unit: "{request}",
            description: "Streams refused with 429, by the limit reached: per user or per instance.");
    }

    /// <summary>
    /// Starts every series at 0, so dashboards see them before the first event. Called once the meter provider listens
    /// (when the hosted services start), not from the constructor: a measurement made before that is lost.
    /// </summary>
    public void DeclareSeries()
    {
        delivered.Add(0);
        foreach (var reason in ResyncReasons)
        {
            resyncs.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
        foreach (var reason in DropReasons)
        {
            drops.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
        foreach (var limit in Limits)
        {
            rejected.Add(0, new KeyValuePair<string, object?>("limit", limit));
        }
    }

    public void ObserveOpenStreams(Func<int> open) =>
        meter.CreateObservableGauge("gateway.event_streams.open", open, unit: "{stream}", description: "Event streams open on this gateway instance.");

    public void Delivered() => delivered.Add(1);

    public void Resynced(string reason) => resyncs.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dropped(string reason) => drops.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Rejected(string limit) => rejected.Add(1, new KeyValuePair<string, object?>("limit", limit));
}
