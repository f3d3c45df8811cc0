using System.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Hosting.Hosting;

namespace Platform.Data.Retention;

/// <summary>What one pass did to one table; <see cref="LockedElsewhere"/>: another replica was already at it.</summary>
public sealed record RetentionPass(string Table, long RowsRemoved, int Batches, bool LockedElsewhere);

/// <summary>
/// Every <see cref="RetentionOptions.Interval"/>, deletes each rule's rows older than its horizon, in batches of
/// <see cref="RetentionOptions.BatchSize"/>, each its own statement and so its own short transaction, until a batch
/// finds fewer rows than it may take. Only one replica works on a table at a time (a session advisory lock per
/// table, skipped when taken): running together would be correct, since the DELETE rechecks the age of every row,
/// but each would find the other's rows gone and they would contend for the same row locks for nothing.
/// A failing pass (the database away, a lock timeout) is logged and counted, and tried again at the next interval.
/// </summary>
public sealed partial class RetentionRunner(
    NpgsqlDataSource dataSource,
    IEnumerable<RetentionRule> rules,
    IOptions<RetentionOptions> options,
    RetentionMetrics metrics,
    TimeProvider clock,
    ILogger<RetentionRunner> logger) : BackgroundLoop
{
    /// <summary>
    /// The hot path never touches rows this old, so a wait on a row lock means something unusual holds it:
    /// give up the pass rather than queue behind it.
    /// </summary>
    private const string SessionSetupSql = "SET lock_timeout = '2s'";

    private const string TryLockSql = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";
    private const string UnlockSql = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

    private readonly RetentionRule[] rules = [.. rules];

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunOnceAsync(stoppingToken);
        }
    }

    /// <summary>One pass over every rule; a rule that fails does not keep the others from running.</summary>
    public async Task<IReadOnlyList<RetentionPass>> RunOnceAsync(CancellationToken cancellationToken)
    {
        var passes = new List<RetentionPass>(rules.Length);
        foreach (var rule in rules)
        {
            try
            {
                var pass = await RunAsync(rule, cancellationToken);
                if (pass.RowsRemoved > 0)
                {
                    LogRemoved(logger, pass.RowsRemoved, rule.Table, pass.Batches);
                }
                passes.Add(pass);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                metrics.Failed(rule.Table);
                LogFailed(logger, e, rule.Table);
            }
        }
        return passes;
    }

    private async Task<RetentionPass> RunAsync(RetentionRule rule, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var cutoff = clock.GetUtcNow() - RetentionOptionsValidator.HorizonOf(settings, rule);
        var lockKey = "platform.retention:" + rule.Table;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var setup = new NpgsqlCommand(SessionSetupSql, connection))
        {
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }
        if (!await AdvisoryAsync(connection, TryLockSql, lockKey, cancellationToken))
        {
            return new RetentionPass(rule.Table, 0, 0, LockedElsewhere: true);
        }
        try
        {
            // ctid = ANY(ARRAY(...)) is a TID scan: the subquery walks the age index for at most a batch of rows,
            // and the DELETE visits only those. The repeated age test makes a row updated in between stay unless
            // it is still old.
            await using var delete = new NpgsqlCommand(
                $"DELETE FROM {rule.Table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {rule.Table} WHERE {rule.AgeColumn} < $1 LIMIT $2)) AND {rule.AgeColumn} < $1",
                connection)
            {
                Parameters = { new() { Value = cutoff }, new() { Value = settings.BatchSize } },
            };
            long total = 0;
            var batches = 0;
            while (true)
            {
                var removed = await delete.ExecuteNonQueryAsync(cancellationToken);
                batches++;
                total += removed;
                metrics.Removed(rule.Table, removed);
                if (removed < settings.BatchSize)
                {
                    return new RetentionPass(rule.Table, total, batches, LockedElsewhere: false);
                }
                // Real time, whatever clock the service runs on: the pause is for the database's sake.
                await Task.Delay(settings.PauseBetweenBatches, cancellationToken);
            }
        }
        finally
        {
            await UnlockAsync(connection, lockKey);
        }
    }

    /// <summary>A pooled connection keeps session locks until it is reused, so the lock is released explicitly.</summary>
    private static async Task UnlockAsync(NpgsqlConnection connection, string lockKey)
    {
        if (connection.FullState != ConnectionState.Open)
        {
            return; // a broken connection's session ended, and its locks with it
        }
        try
        {
            await AdvisoryAsync(connection, UnlockSql, lockKey, CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The connection broke while unlocking: the server ends the session and releases the lock.
        }
    }

    private static async Task<bool> AdvisoryAsync(NpgsqlConnection connection, string sql, string lockKey, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = lockKey } } };
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention removed {Rows} rows from {Table} in {Batches} batches")]
    private static partial void LogRemoved(ILogger logger, long rows, string table, int batches);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention of {Table} failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception, string table);
}
