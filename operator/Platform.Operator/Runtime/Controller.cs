using Microsoft.Extensions.Logging;
using Platform.Operator.Kubernetes;

namespace Platform.Operator.Runtime;

/// <summary>
/// One controller: its informers feed keys into its schedule; one worker reconciles them one at a time (so a
/// key is never reconciled twice at once), requeues at the time a reconcile asks for, and backs off on errors.
/// </summary>
public abstract class Controller(string name, TimeProvider clock, OperatorMetrics metrics, ILogger logger)
{
    private static readonly TimeSpan BaseBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public string Name { get; } = name;

    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    protected ReconcileSchedule Schedule { get; } = new(clock, BaseBackoff, MaxBackoff);

    /// <summary>The watches of this controller, for readiness.</summary>
    public abstract IReadOnlyList<Func<(string Name, DateTimeOffset LastContact, bool Synced)>> Watches { get; }

    /// <summary>Brings the world in line for one key; returns when to look again (null: only on change or resync).</summary>
    protected abstract Task<DateTimeOffset?> ReconcileAsync(string key, CancellationToken cancellationToken);

    protected abstract IEnumerable<Task> RunInformers(CancellationToken cancellationToken);

    protected abstract bool InformersSynced { get; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var informers = RunInformers(cancellationToken).ToList();
        while (!InformersSynced && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), Clock, cancellationToken);
        }
        await Supervision.AllUnlessOneFailsAsync([.. informers, WorkAsync(cancellationToken)]);
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var key = await Schedule.TakeAsync(cancellationToken);
            var started = OperatorMetrics.Start();
            try
            {
                var requeueAt = await ReconcileAsync(key, cancellationToken);
                Schedule.Forget(key);
                if (requeueAt is { } when)
                {
                    Schedule.AddAt(key, when);
                }
                metrics.Reconciled(Name, requeueAt is null ? "success" : "requeue", System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                var delay = Schedule.AddAfterFailure(key);
                metrics.Reconciled(Name, "error", System.Diagnostics.Stopwatch.GetElapsedTime(started));
                if (exception is KubernetesApiException or HttpRequestException or System.Text.Json.JsonException or FormatException)
                {
                    Logger.LogWarning("{Controller} failed to reconcile {Key}: {Message}; again in {Delay} ms", Name, key, exception.Message, (int)delay.TotalMilliseconds);
                }
                else
                {
                    // A defect rather than the API server: retried all the same, so one bad key cannot stop the worker for every other key.
                    Logger.LogError(exception, "{Controller} failed unexpectedly to reconcile {Key}; again in {Delay} ms", Name, key, (int)delay.TotalMilliseconds);
                }
            }
        }
    }
}
