using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Hosting;
using Platform.Hosting.Health;

namespace Platform.Broker;

public static class RabbitMqExtensions
{
    /// <summary>
    /// The broker connection and its readiness check. <paramref name="outageStatus"/> is what an outage makes the
    /// check: a service whose requests do not need the broker (events wait in the outbox) stays ready, degraded (auth, tasks, files; the gateway, whose event streams pause).
    /// </summary>
    public static WebApplicationBuilder AddPlatformRabbitMq(this WebApplicationBuilder builder, HealthStatus outageStatus = HealthStatus.Unhealthy)
    {
        var uri = builder.Configuration[ConfigurationKeys.RabbitMqConnection];
        if (string.IsNullOrWhiteSpace(uri) || !Uri.TryCreate(uri, UriKind.Absolute, out _))
        {
            throw new InvalidOperationException("ConnectionStrings:RabbitMq must be an amqp:// URI.");
        }
        builder.Services.AddSingleton(new RabbitMqConnection(RabbitMqConnection.Factory(uri, builder.Configuration), builder.Environment.ApplicationName));
        builder.Services.AddHealthChecks()
            .AddCheck<RabbitMqHealthCheck>("rabbitmq", failureStatus: outageStatus, tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return builder;
    }
}
