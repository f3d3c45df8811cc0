using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Platform.Broker;

/// <summary>How a long-running consumer learns that it has to start consuming over (the services' and the gateway's).</summary>
public static class ConsumerWatch
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The client's automatic recovery restores the channel and its consumer after the connection is lost. It does
    /// not help while the connection is fine but the broker closed the channel for an error, or cancelled the
    /// consumer because the queue was deleted: then consuming starts over, declaring the queue again. Seen twice in
    /// a row, because during a recovery the connection is back briefly before its channels and consumers are.
    /// </summary>
    public static async Task WaitUntilConsumingStopsAsync(IConnection connection, IChannel channel, AsyncEventingBasicConsumer consumer, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(consumer);
        var suspicious = false;
        while (true)
        {
            await Task.Delay(Interval, stoppingToken);
            var stopped = connection.IsOpen && (channel.IsClosed || !consumer.IsRunning);
            if (stopped && suspicious)
            {
                return;
            }
            suspicious = stopped;
        }
    }
}
