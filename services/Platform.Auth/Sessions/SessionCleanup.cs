using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Hosting.Hosting;

namespace Platform.Auth.Sessions;

/// <summary>
/// Every <see cref="SessionOptions.CleanupInterval"/>: closes sessions that passed their idle timeout or absolute
/// end (counted in <c>auth_sessions_expired_total{reason}</c>); the retention job deletes them later
/// (<see cref="EndedSessionsRetention"/>). Runs on every
/// replica without coordination — the statements are safe to run concurrently — and a failed round (the database
/// away) is simply tried again at the next tick.
/// </summary>
public sealed partial class SessionCleanup(IServiceScopeFactory scopes, IOptions<SessionOptions> options, TimeProvider clock, ILogger<SessionCleanup> logger)
    : BackgroundLoop
{
    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunOnceAsync(stoppingToken);
        }
    }

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var sessions = scope.ServiceProvider.GetRequiredService<SessionManager>();
            var closed = await sessions.CloseExpiredAsync(cancellationToken);
            if (closed > 0)
            {
                LogClosed(logger, closed);
            }
        }
        catch (Exception e) when (IsDatabaseFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, e);
        }
    }

    /// <summary>
    /// EF Core wraps a database failure in its own exceptions (an InvalidOperationException for a transient one), so
    /// the Npgsql exception is looked for down the chain. Anything else still escapes: a bug should stop the host.
    /// </summary>
    private static bool IsDatabaseFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException)
            {
                return true;
            }
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Closed} expired sessions")]
    private static partial void LogClosed(ILogger logger, int closed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session cleanup failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
