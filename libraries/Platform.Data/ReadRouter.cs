using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Data;

/// <summary>
/// Sends a read to the replica or the primary (docs/architecture.md §7.3): the primary when the subject wrote recently
/// (<see cref="RecentWriters"/>), when the replica is lagging or unmeasured (<see cref="ReplicaLagMonitor"/>),
/// and — retried there — when the replica fails to connect. Writers call <see cref="NoteWriteAsync"/> after
/// their commit and before they answer, so every read that starts after the answer sees the write.
/// </summary>
public sealed partial class ReadRouter(
    NpgsqlDataSource primary,
    ReadReplica replica,
    ReplicaLagMonitor monitor,
    RecentWriters writers,
    DataMetrics metrics,
    ILogger<ReadRouter> logger)
{
    public Task NoteWriteAsync(string subject) => writers.NoteWriteAsync(subject);

    /// <summary>A replica is configured and within its lag bound: a read of a subject that has not written recently may go there.</summary>
    public bool ReplicaCurrent => replica.DataSource is not null && monitor.Usable;

    /// <summary>Whether the subject wrote within the read-your-writes window (true while Redis cannot tell): its reads go to the primary.</summary>
    public ValueTask<bool> WroteRecentlyAsync(string subject) => writers.WroteRecentlyAsync(subject);

    /// <summary>Runs <paramref name="read"/> where the subject's reads go now; the same connection serves all of its queries.</summary>
    public async Task<T> ReadAsync<T>(string subject, Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        return await ReadAsync(ReplicaCurrent && !await writers.WroteRecentlyAsync(subject) ? ReadTarget.Replica : ReadTarget.Primary,
            (connection, _) => read(connection), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on a connection to <paramref name="target"/>, decided by a caller that planned the
    /// request (<see cref="ReplicaCurrent"/>, <see cref="WroteRecentlyAsync"/>); a replica that fails is replaced by the primary.
    /// <paramref name="read"/> is told which server its connection is on: an answer from the primary is exact when read.
    /// </summary>
    public async Task<T> ReadAsync<T>(ReadTarget target, Func<NpgsqlConnection, ReadTarget, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (target == ReadTarget.Replica && replica.DataSource is { } replicaSource)
        {
            try
            {
                await using var connection = await replicaSource.OpenConnectionAsync(cancellationToken);
                var result = await read(connection, ReadTarget.Replica);
                metrics.Read(ReadTarget.Replica);
                return result;
            }
            catch (Exception e) when (IsReplicaTrouble(e) && !cancellationToken.IsCancellationRequested)
            {
                monitor.ReportFailure();
                LogFellBack(logger, e.Message);
            }
        }
        await using (var connection = await primary.OpenConnectionAsync(cancellationToken))
        {
            var result = await read(connection, ReadTarget.Primary);
            metrics.Read(ReadTarget.Primary);
            return result;
        }
    }

    /// <summary>
    /// The replica is unreachable, cancelled the query because replay needed its rows (a recovery conflict), or
    /// has not yet replayed the database or schema a migration just made: the primary can answer in each case.
    /// Other errors in the query would fail there too, and are not caught.
    /// </summary>
    private static bool IsReplicaTrouble(Exception e) => e switch
    {
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.InvalidCatalogName
            or PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedColumn,
        NpgsqlException or TimeoutException => true,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A read on the replica failed ({Reason}); answered from the primary")]
    private static partial void LogFellBack(ILogger logger, string reason);
}
