using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Data;
using Platform.Hosting;

namespace Platform.Messaging;

/// <summary>
/// Wakes the dispatcher when a commit adds rows to the outbox, through a dedicated connection that LISTENs for
/// the outbox trigger's notification. It is an accelerator only: when it is down the dispatcher still looks on
/// its timer, so failures here are logged and retried, never fatal.
/// </summary>
internal sealed partial class OutboxListener(PrimaryDatabase database, ILogger logger)
{
    /// <summary>At most one pending wake-up: any number of notifications during a round mean "look again" once.</summary>
    private readonly Channel<bool> wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => wakeUps.Writer.TryWrite(true);

    /// <summary>Returns when woken or after <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await wakeUps.Reader.WaitToReadAsync(deadline.Token);
            wakeUps.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout: the safety-net look at the outbox.
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Not from the pool: a pooled connection is reset (UNLISTEN) when returned, and this one lives for the
        // process. Keepalives make a silently dead server fail the wait instead of leaving it hanging forever.
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 10 }.ConnectionString;
        var outage = new FailureStreak();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {MessagingSchema.NotificationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }
                if (outage.Ended() is > 0 and var failures)
                {
                    LogListeningAgain(logger, failures);
                }
                // Rows committed while nobody was listening sent their notification to no one.
                Wake();
                while (true)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (outage.Failed())
                {
                    LogListenFailed(logger, e);
                }
                if (!await outage.WaitAsync(cancellationToken))
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox listener lost its PostgreSQL connection; the dispatcher falls back to polling until it is back")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox listener is listening again after {Failures} failed attempts")]
    private static partial void LogListeningAgain(ILogger logger, int failures);
}
