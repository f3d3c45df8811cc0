using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.Health;

namespace Platform.ServiceDefaults.Messaging;

public static class RabbitMqExtensions
{
    public static WebApplicationBuilder AddPlatformRabbitMq(this WebApplicationBuilder builder)
    {
        var uri = builder.Configuration.GetConnectionString("RabbitMq");
        if (string.IsNullOrWhiteSpace(uri) || !Uri.TryCreate(uri, UriKind.Absolute, out _))
        {
            throw new InvalidOperationException("ConnectionStrings:RabbitMq must be an amqp:// URI.");
        }
        builder.Services.AddSingleton(new RabbitMqConnection(RabbitMqConnection.Factory(uri, builder.Configuration), builder.Environment.ApplicationName));
        builder.Services.AddHealthChecks()
            .AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return builder;
    }
}
