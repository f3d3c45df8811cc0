using k8s.Models;
using Microsoft.Extensions.Logging;
using Platform.Operator.Kubernetes;

namespace Platform.Operator.Runtime;

/// <param name="LeaseDuration">How long a lease holds without renewal; a standby takes over after it.</param>
/// <param name="RenewDeadline">A leader that has not renewed for this long stops working (before anyone may take over).</param>
/// <param name="RetryPeriod">How often a leader renews and a standby tries.</param>
public sealed record LeaderElectionTimings(TimeSpan LeaseDuration, TimeSpan RenewDeadline, TimeSpan RetryPeriod)
{
    public static readonly LeaderElectionTimings Default = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));
}

/// <summary>
/// Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every retry
/// period; anyone may take a lease not renewed for its duration (optimistic concurrency decides who);
/// a leader that cannot renew within the renew deadline, or finds another holder, cancels its work at once.
/// On shutdown the leader releases the lease so a standby need not wait it out.
/// </summary>
public sealed class LeaderElector(IKubernetesApi api, string leaseName, string identity, LeaderElectionTimings timings, TimeProvider clock, ILogger logger)
{
    public string Identity { get; } = identity;

    public bool IsLeader { get; private set; }

    /// <summary>Runs <paramref name="lead"/> whenever this instance leads, until <paramref name="cancellationToken"/> ends.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, Action<bool> leadershipChanged, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            while (!await TryAcquireOrRenewAsync(cancellationToken))
            {
                await Task.Delay(timings.RetryPeriod, clock, cancellationToken);
            }
            logger.LogInformation("{Identity} leads (lease {Lease})", Identity, leaseName);
            IsLeader = true;
            leadershipChanged(true);
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var work = lead(leading.Token);
            var renewedAt = clock.GetUtcNow();
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await Task.WhenAny(Task.Delay(timings.RetryPeriod, clock, cancellationToken), work);
                    if (work.IsCompleted || cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    var outcome = await RenewAsync(cancellationToken);
                    if (outcome == Renewal.Renewed)
                    {
                        renewedAt = clock.GetUtcNow();
                    }
                    else if (outcome == Renewal.TakenByOther || clock.GetUtcNow() - renewedAt > timings.RenewDeadline)
                    {
                        logger.LogWarning("{Identity} lost the lease {Lease} ({Outcome}); stopping work", Identity, leaseName, outcome);
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down: stop the work and release below.
            }
            finally
            {
                IsLeader = false;
                leadershipChanged(false);
                await leading.CancelAsync();
                await Completion(work);
            }
        }
        await ReleaseAsync();
    }

    private enum Renewal
    {
        Renewed,
        Failed,
        TakenByOther,
    }

    private async Task<Renewal> RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lease = await api.GetAsync<V1Lease>(leaseName, cancellationToken);
            if (lease.Spec?.HolderIdentity != Identity)
            {
                return Renewal.TakenByOther;
            }
            lease.Spec.RenewTime = clock.GetUtcNow().UtcDateTime;
            await api.ReplaceAsync(lease, cancellationToken);
            return Renewal.Renewed;
        }
        catch (KubernetesApiException exception)
        {
            logger.LogWarning("{Identity} could not renew lease {Lease}: {Message}", Identity, leaseName, exception.Message);
            return Renewal.Failed;
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        try
        {
            var lease = await api.FindAsync<V1Lease>(leaseName, cancellationToken);
            if (lease is null)
            {
                await api.CreateAsync(new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = leaseName },
                    Spec = new V1LeaseSpec { HolderIdentity = Identity, LeaseDurationSeconds = (int)timings.LeaseDuration.TotalSeconds, AcquireTime = now, RenewTime = now, LeaseTransitions = 0 },
                }, cancellationToken);
                return true;
            }
            var spec = lease.Spec ??= new V1LeaseSpec();
            var heldByOther = spec.HolderIdentity is { Length: > 0 } holder && holder != Identity;
            var expired = spec.RenewTime is not { } renewed || renewed + TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? (int)timings.LeaseDuration.TotalSeconds) < now;
            if (heldByOther && !expired)
            {
                return false;
            }
            if (spec.HolderIdentity != Identity)
            {
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
                spec.AcquireTime = now;
            }
            spec.HolderIdentity = Identity;
            spec.LeaseDurationSeconds = (int)timings.LeaseDuration.TotalSeconds;
            spec.RenewTime = now;
            await api.ReplaceAsync(lease, cancellationToken);
            return true;
        }
        catch (KubernetesApiException exception) when (exception is ConflictException or UnavailableException or NotFoundException)
        {
            logger.LogDebug("{Identity} did not get lease {Lease}: {Message}", Identity, leaseName, exception.Message);
            return false;
        }
    }

    private async Task ReleaseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var lease = await api.FindAsync<V1Lease>(leaseName, timeout.Token);
            if (lease?.Spec?.HolderIdentity != Identity)
            {
                return;
            }
            lease.Spec.HolderIdentity = "";
            lease.Spec.LeaseDurationSeconds = 1;
            await api.ReplaceAsync(lease, timeout.Token);
            logger.LogInformation("{Identity} released lease {Lease}", Identity, leaseName);
        }
        catch (Exception exception) when (exception is KubernetesApiException or OperationCanceledException)
        {
            logger.LogWarning("{Identity} could not release lease {Lease}: {Message}; it expires on its own", Identity, leaseName, exception.Message);
        }
    }

    private static async Task Completion(Task work)
    {
        try
        {
            await work;
        }
        catch (OperationCanceledException)
        {
            // Cancelled on purpose: leadership ended.
        }
    }
}
