using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Hosting.Hosting;

namespace Platform.Data;

/// <summary>
/// Opens a server's <c>Minimum Pool Size</c> connections once, at start, so requests find them open. A connection's
/// start costs PostgreSQL a fork and an authentication, and on a loaded machine it can take longer than the
/// connection timeout: `make bench` saw reads during a login storm wait the replica's whole 2 s timeout for
/// connections the pool had not opened yet. The chart and `make run` configure fixed pools (minimum = maximum), so
/// the pool opens them here and never closes them for idleness; with no minimum this does nothing.
/// </summary>
public sealed partial class PoolWarmup(NpgsqlDataSource? dataSource, string server, ILogger<PoolWarmup> logger) : BackgroundLoop
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var count = dataSource is null ? 0 : new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MinPoolSize;
        if (count <= 0)
        {
            return;
        }
        // All at once, each held until all are open: the pool cannot hand one of them out twice.
        var opened = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => OpenAsync(dataSource!, stoppingToken)));
        var failure = opened.FirstOrDefault(result => result.Failure is not null).Failure;
        if (failure is not null && !stoppingToken.IsCancellationRequested)
        {
            LogWarmupFailed(logger, opened.Count(result => result.Connection is null), server, failure);
        }
        else if (failure is null)
        {
            LogWarmedUp(logger, count, server);
        }
        foreach (var (connection, _) in opened)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync(); // back to the pool, which keeps it: the minimum is never pruned
            }
        }
    }

    private static async Task<(NpgsqlConnection? Connection, string? Failure)> OpenAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        try
        {
            return (await source.OpenConnectionAsync(cancellationToken), null);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            return (null, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened {Count} connections to the {Server} ahead of requests")]
    private static partial void LogWarmedUp(ILogger logger, int count, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} connections to the {Server} could not be opened ahead of requests ({Reason}); the pool opens them when needed")]
    private static partial void LogWarmupFailed(ILogger logger, int count, string server, string reason);
}
