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
    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
