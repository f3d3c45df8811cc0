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
/// A standby judges expiry on its own clock, by how long ago it saw the lease record change, never by the renew
/// time the holder wrote from the holder's clock: a standby whose clock runs ahead must not take a lease still renewed.
/// Every attempt to acquire or renew is abandoned at the renew deadline: a request that hangs must not keep a
/// leader working after a standby may take over. On shutdown the leader releases the lease so a standby need
/// not wait it out.
/// </summary>
public sealed class LeaderElector(IKubernetesApi api, string leaseName, string identity, LeaderElectionTimings timings, TimeProvider clock, ILogger logger)
{
    public string Identity { get; } = identity;

    public bool IsLeader { get; private set; }

    /// <summary>
    /// The lease record as last read, and when (a monotonic timestamp of this instance's clock) it was first read so.
    /// The fields a holder writes to renew or take the lease, not the resourceVersion: every renewal changes the renew
    /// time, whereas any other write to the Lease (a label, an annotation) would change the resourceVersion and keep a
    /// dead holder's lease alive. Monotonic, so a wall-clock step (NTP) cannot end a lease early either.
    /// </summary>
    private (string? Holder, DateTime? RenewTime, int? Transitions) observedRecord;

    private long observedAt;

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
            var record = (spec.HolderIdentity, spec.RenewTime, spec.LeaseTransitions);
            if (record != observedRecord)
            {
                // First sight counts as a change too: a standby just started waits a whole lease duration.
                observedRecord = record;
                observedAt = clock.GetTimestamp();
            }
            var heldByOther = spec.HolderIdentity is { Length: > 0 } holder && holder != Identity;
            var expired = spec.RenewTime is null || clock.GetElapsedTime(observedAt) > TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? (int)timings.LeaseDuration.TotalSeconds);
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
        catch (KubernetesApiException exception)
        {
            // Refused (a Role being replaced by an upgrade, a token not yet valid): keep trying, as a standby. Thrown
            // on, it ended the elector and with it the host, and the pod restarted into the same refusal.
            logger.LogWarning("{Identity} may not take lease {Lease}: {Message}", Identity, leaseName, exception.Message);
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
