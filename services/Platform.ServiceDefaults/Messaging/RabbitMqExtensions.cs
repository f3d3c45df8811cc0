using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.ServiceDefaults.Health;

namespace Platform.ServiceDefaults.Messaging;

public static class RabbitMqExtensions
{
    /// <summary>
    /// The process's AMQP connection and its readiness check. A service that only degrades without the broker (the
    /// gateway: its event streams pause) passes <see cref="HealthStatus.Degraded"/>.
    /// </summary>
    public static WebApplicationBuilder AddPlatformRabbitMq(this WebApplicationBuilder builder, HealthStatus outageStatus = HealthStatus.Unhealthy)
    {
        var uri = builder.Configuration.GetConnectionString("RabbitMq");
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
