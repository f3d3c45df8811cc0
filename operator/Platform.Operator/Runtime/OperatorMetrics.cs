using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Operator.Runtime;

/// <summary>The operator's instruments, exported by the service defaults as operator_*.</summary>
public sealed class OperatorMetrics
{
    public const string MeterName = "Platform.Operator";

    private readonly Counter<long> reconciles;
    private readonly Histogram<double> reconcileDuration;
    private readonly Counter<long> rotations;
    private readonly ConcurrentDictionary<string, DateTimeOffset> nextRotations = new(StringComparer.Ordinal);
    private int leader;

    public OperatorMetrics(IMeterFactory meters, WatchHealth watches, TimeProvider clock)
    {
        var meter = meters.Create(MeterName);
        reconciles = meter.CreateCounter<long>("operator.reconcile", "{reconcile}", "Reconciles by controller and result (success, error, requeue).");
        reconcileDuration = meter.CreateHistogram("operator.reconcile.duration", "s", "Time one reconcile takes.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        rotations = meter.CreateCounter<long>("operator.signing_key.rotations", "{rotation}", "Signing keys activated by the operator.");
        meter.CreateObservableGauge("operator.leader", () => Volatile.Read(ref leader), "{leader}", "1 while this instance holds the lease.");
        meter.CreateObservableGauge("operator.watch.age", () => watches.Ages(clock.GetUtcNow()).Select(w => new Measurement<double>(w.Age.TotalSeconds, new KeyValuePair<string, object?>("resource", w.Name))),
            "s", "Time since each watch last heard from the API server (event, bookmark or list).");
        meter.CreateObservableGauge("operator.signing_key.next_rotation.timestamp", ObserveNextRotations, "s",
            "When each SigningKeyRotation's next rotation is due (Unix time); a value in the past that stays put means rotation is stuck.");
    }

    public void Reconciled(string controller, string result, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("controller", controller);
        reconciles.Add(1, tag, new KeyValuePair<string, object?>("result", result));
        reconcileDuration.Record(duration.TotalSeconds, tag);
    }

    public void KeyRotated() => rotations.Add(1);

    public void Leading(bool isLeader) => Volatile.Write(ref leader, isLeader ? 1 : 0);

    /// <summary>The next rotation a reconcile decided for a SigningKeyRotation (namespace/name); null forgets it.</summary>
    public void NextRotation(string rotation, DateTimeOffset? due)
    {
        if (due is { } at)
        {
            nextRotations[rotation] = at;
        }
        else
        {
            nextRotations.TryRemove(rotation, out _);
        }
    }

    private IEnumerable<Measurement<double>> ObserveNextRotations() =>
        nextRotations.Select(entry => new Measurement<double>(entry.Value.ToUnixTimeMilliseconds() / 1000.0, new KeyValuePair<string, object?>("rotation", entry.Key)));

    public static long Start() => Stopwatch.GetTimestamp();
}
