using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Broker;
using Platform.Data;

namespace Platform.Messaging;

public static class OutboxExtensions
{
    /// <summary>
    /// The outbox of a producing service: its schema joins the <c>migrate</c> command, and a dispatcher publishes
    /// what the service's transactions enqueue. Needs <c>AddPlatformPostgres</c> and <c>AddPlatformRabbitMq</c>.
    /// </summary>
    public static WebApplicationBuilder AddPlatformOutbox(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OutboxOptions>()
            .BindConfiguration(OutboxOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddMessagingSchema();
        builder.Services.TryAddSingleton<OutboxMetrics>();
        builder.Services.AddHostedService<OutboxDispatcher>();
        return builder;
    }

    /// <summary>Once, however many producers and consumers a service registers.</summary>
    internal static IServiceCollection AddMessagingSchema(this IServiceCollection services)
    {
        services.AddSchema(MessagingSchema.Component);
        return services;
    }
}
