using System.Diagnostics.Metrics;

namespace Platform.Data;

/// <summary>Where reads went and how far the replica lags: <c>db_reads_total{target}</c>, <c>db_replica_lag_seconds</c>.</summary>
public sealed class DataMetrics
{
    public const string MeterName = "Platform.Data";

    private readonly Counter<long> reads;

    private readonly Meter meter;

    public DataMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        meter = meters.Create(MeterName);
        reads = meter.CreateCounter<long>("db.reads", "{read}", "Reads by the server that answered them (primary or replica).");
    }

    /// <summary>Called by the monitor as it starts, so the gauge exists before the first read.</summary>
    public void ObserveReplicaLag(Func<TimeSpan?> lag) =>
        meter.CreateObservableGauge("db.replica.lag", () => LagOf(lag), "s",
            "Replay lag of the read replica, sampled in the background; absent while the replica cannot be measured.");

    public void Read(ReadTarget target) =>
        reads.Add(1, new KeyValuePair<string, object?>("target", target == ReadTarget.Replica ? "replica" : "primary"));

    private static IEnumerable<Measurement<double>> LagOf(Func<TimeSpan?> lag)
    {
        if (lag() is { } measured)
        {
            yield return new Measurement<double>(measured.TotalSeconds);
        }
    }
}
