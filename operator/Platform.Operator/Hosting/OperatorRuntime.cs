using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Operator.Controllers;
using Platform.Operator.Runtime;

namespace Platform.Operator.Hosting;

/// <summary>
/// The operator's main loop: elect a leader; while leading, run every controller (informers and workers);
/// on losing the lease, cancel them at once; on shutdown, release the lease.
/// </summary>
public sealed class OperatorRuntime(
    LeaderElector elector,
    SigningKeyRotationController keys,
    ScalingPolicyController scaling,
    WatchHealth watchHealth,
    OperatorMetrics metrics,
    ILogger<OperatorRuntime> logger) : BackgroundService
{
    public bool IsLeader => elector.IsLeader;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        elector.RunAsync(LeadAsync, metrics.Leading, stoppingToken);

    private async Task LeadAsync(CancellationToken cancellationToken)
    {
        Controller[] controllers = [keys, scaling];
        watchHealth.Track(controllers.SelectMany(c => c.Watches));
        try
        {
            await Supervision.AllUnlessOneFailsAsync([.. controllers.Select(c => c.RunAsync(cancellationToken))]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Controllers stopped");
        }
        finally
        {
            watchHealth.Clear();
        }
    }
}
