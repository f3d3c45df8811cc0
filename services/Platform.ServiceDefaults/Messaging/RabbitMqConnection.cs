using RabbitMQ.Client;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// The process's one AMQP connection, created on first use and recovered by the client after a broker
/// restart. Creation is single-flight: callers that arrive while it is being opened wait for that attempt.
/// </summary>
public sealed class RabbitMqConnection(string uri, string clientName) : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;

    public bool IsOpen => connection is { IsOpen: true };

    public async ValueTask<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (connection is { } existing)
        {
            return existing;
        }
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(uri),
                    ClientProvidedName = clientName,
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
                };
                connection = await factory.CreateConnectionAsync(cancellationToken);
            }
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
        gate.Dispose();
    }
}
