using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Hosting.Hosting;

namespace Platform.Data;

/// <summary>
/// Measures, about once a second, how far the replica's replay is behind the primary, so that routing a read
/// costs no query. The replica is caught up (lag 0) when it has replayed the primary's WAL position read just
/// before; otherwise the lag is the time since it last replayed a transaction. After an idle spell that
/// overstates the lag for one sample — which only sends reads to the primary for a second. Until the first
/// good sample, whenever the replica does not answer, and whenever no sample has succeeded for three intervals (a
/// replica that hangs without closing its connections: a frozen process, a network partition), it is not
/// <see cref="Usable"/>; a sample gives up after two intervals and the next one tries again.
/// </summary>
public sealed partial class ReplicaLagMonitor(
    NpgsqlDataSource primary,
    ReadReplica replica,
    IOptions<ReadRoutingOptions> options,
    DataMetrics metrics,
    ILogger<ReplicaLagMonitor> logger) : BackgroundLoop
{
    private const string ReplicaSql =
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8";

    private readonly TimeSpan maxLag = TimeSpan.FromSeconds(options.Value.MaxReplicaLagSeconds);
    private readonly TimeSpan interval = TimeSpan.FromSeconds(options.Value.LagSampleSeconds);
    private readonly TimeSpan sampleDeadline = Max(TimeSpan.FromSeconds(options.Value.LagSampleSeconds * 2), TimeSpan.FromSeconds(1));
    private readonly TimeSpan staleAfter = Max(TimeSpan.FromSeconds(options.Value.LagSampleSeconds * 3), TimeSpan.FromSeconds(2));
    private long lagTicks = -1; // -1: unknown
    private long lastGoodSample;
    private bool usable;
    private bool reportedDown;

    /// <summary>The last measured lag; null while the replica cannot be measured.</summary>
    public TimeSpan? Lag => Interlocked.Read(ref lagTicks) is >= 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>True when reads may go to the replica: it answered the last sample within the lag bound, recently.</summary>
    public bool Usable => Volatile.Read(ref usable) && replica.DataSource is not null
        && Stopwatch.GetElapsedTime(Interlocked.Read(ref lastGoodSample)) < staleAfter;

    /// <summary>A read on the replica failed to connect: stop using it until the next good sample.</summary>
    public void ReportFailure() => Volatile.Write(ref usable, false);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveReplicaLag(() => Lag);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        if (replica.DataSource is not { } replicaSource)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval);
        do
        {
            await SampleAsync(primary, replicaSource, stoppingToken);
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SampleAsync(NpgsqlDataSource primarySource, NpgsqlDataSource replicaSource, CancellationToken stoppingToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(sampleDeadline);
        var cancellationToken = deadline.Token;
        try
        {
            await using var primaryCommand = primarySource.CreateCommand("SELECT pg_current_wal_lsn()");
            var primaryLsn = (NpgsqlLogSequenceNumber)(await primaryCommand.ExecuteScalarAsync(cancellationToken))!;
            await using var replicaCommand = replicaSource.CreateCommand(ReplicaSql);
            await using var reader = await replicaCommand.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var inRecovery = reader.GetBoolean(0);
            var replayed = reader.IsDBNull(1) ? (NpgsqlLogSequenceNumber?)null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(1);
            var sinceReplay = reader.IsDBNull(2) ? (double?)null : reader.GetDouble(2);
            TimeSpan? lag = !inRecovery ? null
                : replayed >= primaryLsn ? TimeSpan.Zero
                : sinceReplay is { } seconds ? TimeSpan.FromSeconds(Math.Max(0, seconds))
                : null;
            Interlocked.Exchange(ref lagTicks, lag?.Ticks ?? -1);
            Volatile.Write(ref usable, lag is { } known && known <= maxLag);
            Interlocked.Exchange(ref lastGoodSample, Stopwatch.GetTimestamp());
            if (reportedDown)
            {
                reportedDown = false;
                LogReplicaAnswers(logger);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or InvalidCastException or OperationCanceledException)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                return; // stopping: a sample cut short is no news, and must not fault the host on its way out
            }
            Interlocked.Exchange(ref lagTicks, -1);
            Volatile.Write(ref usable, false);
            if (!reportedDown)
            {
                reportedDown = true;
                LogReplicaUnavailable(logger, e.Message);
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read replica cannot be measured ({Reason}); reads go to the primary")]
    private static partial void LogReplicaUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read replica answers again")]
    private static partial void LogReplicaAnswers(ILogger logger);
}
