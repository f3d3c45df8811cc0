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
/// Every attempt to acquire or renew is abandoned at the renew deadline: a request that hangs must not keep a
/// leader working after a standby may take over. On shutdown the leader releases the lease so a standby need
/// not wait it out.
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
            // The lease is held from when the attempt that won it began (its renew time is no earlier).
            var renewedAt = clock.GetUtcNow();
            while (!await TryAcquireOrRenewAsync(cancellationToken))
            {
                await Task.Delay(timings.RetryPeriod, clock, cancellationToken);
                renewedAt = clock.GetUtcNow();
            }
            logger.LogInformation("{Identity} leads (lease {Lease})", Identity, leaseName);
            IsLeader = true;
            leadershipChanged(true);
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var work = lead(leading.Token);
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await Task.WhenAny(Task.Delay(timings.RetryPeriod, clock, cancellationToken), work);
                    if (work.IsCompleted || cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    // A renewal counts from when it began: the lease it writes says no later than that.
                    var attemptAt = clock.GetUtcNow();
                    var outcome = await RenewAsync(timings.RenewDeadline - (attemptAt - renewedAt), cancellationToken);
                    if (outcome == Renewal.Renewed)
                    {
                        renewedAt = attemptAt;
                    }
                    else if (outcome == Renewal.TakenByOther || clock.GetUtcNow() - renewedAt >= timings.RenewDeadline)
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

    /// <summary>Renews within <paramref name="remaining"/>, what is left of the renew deadline; a renewal still unanswered then has failed.</summary>
    private async Task<Renewal> RenewAsync(TimeSpan remaining, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, clock);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var lease = await api.GetAsync<V1Lease>(leaseName, attempt.Token);
            if (lease.Spec?.HolderIdentity != Identity)
            {
                return Renewal.TakenByOther;
            }
            lease.Spec.RenewTime = clock.GetUtcNow().UtcDateTime;
            await api.ReplaceAsync(lease, attempt.Token);
            return Renewal.Renewed;
        }
        catch (KubernetesApiException exception)
        {
            logger.LogWarning("{Identity} could not renew lease {Lease}: {Message}", Identity, leaseName, exception.Message);
            return Renewal.Failed;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("{Identity} could not renew lease {Lease}: the API server did not answer within the renew deadline", Identity, leaseName);
            return Renewal.Failed;
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timings.RenewDeadline, clock);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await TryAcquireOrRenewOnceAsync(attempt.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("{Identity} did not get lease {Lease}: the API server did not answer within the renew deadline", Identity, leaseName);
            return false;
        }
    }

    private async Task<bool> TryAcquireOrRenewOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lease = await api.FindAsync<V1Lease>(leaseName, cancellationToken);
            // The time the lease is written with, taken after the read: a slow read must not date the renewal back.
            var now = clock.GetUtcNow().UtcDateTime;
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
