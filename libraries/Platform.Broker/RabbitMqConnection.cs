using Microsoft.Extensions.Configuration;
using Platform.Hosting;
using RabbitMQ.Client;

namespace Platform.Broker;

/// <summary>
/// The process's one AMQP connection, created on first use and recovered by the client after a broker
/// restart. Creation is single-flight: callers that arrive while it is being opened wait for that attempt.
/// </summary>
public sealed class RabbitMqConnection(ConnectionFactory factory, string clientName) : IAsyncDisposable
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
                factory.ClientProvidedName = clientName;
                connection = await factory.CreateConnectionAsync(cancellationToken);
            }
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The factory for ConnectionStrings:RabbitMq (an amqp:// or amqps:// URI without the password), with the password
    /// from RabbitMq:Password as stored in its Secret (in the URI an '@', '%' or ':' would need percent-encoding) and,
    /// for amqps, the broker's CA from RabbitMq:CaCertificate (PEM).
    /// </summary>
    public static ConnectionFactory Factory(string uri, IConfiguration configuration)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(uri),
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
        };
        if (configuration[ConfigurationKeys.RabbitMqPassword] is { Length: > 0 } password)
        {
            factory.Password = password;
        }
        if (configuration[ConfigurationKeys.RabbitMqCaCertificate] is { Length: > 0 } ca)
        {
            factory.Ssl.CertificateValidationCallback = TrustedCa.Validator(ca);
        }
        return factory;
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
