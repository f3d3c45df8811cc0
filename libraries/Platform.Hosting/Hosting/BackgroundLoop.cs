using Microsoft.Extensions.Hosting;

namespace Platform.Hosting.Hosting;

/// <summary>
/// A <see cref="BackgroundService"/> whose work ends quietly when it is told to stop. The host reports a service
/// task that ends cancelled as "BackgroundService failed" (and a Critical "StopHost") unless StopAsync was called,
/// and a host whose start fails (a port taken, a bad setting) is disposed without it: every loop here that waits on
/// the stopping token (a delay, a timer, a channel) would add those two misleading lines to a crash log.
/// </summary>
public abstract class BackgroundLoop : BackgroundService
{
    private volatile bool ran;
    private Task? watched;

    /// <summary>
    /// What the host watches: the work's task, except that one cancelled before it ran ends quietly. .NET 10 starts
    /// ExecuteAsync on the thread pool with the stopping token, so a host whose start fails at once (a port taken)
    /// can cancel that task before a line of it ran, and the host would report it as a failed service (CI, once).
    /// </summary>
    public override Task? ExecuteTask => base.ExecuteTask is { } task ? watched ??= QuietIfNeverRunAsync(task) : null;

    private async Task QuietIfNeverRunAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (task.IsCanceled && !ran)
        {
        }
    }

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ran = true;
        try
        {
            await RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The service's work; an <see cref="OperationCanceledException"/> once stopping is requested ends it quietly.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);
}
