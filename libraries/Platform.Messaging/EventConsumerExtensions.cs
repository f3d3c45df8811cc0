using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Broker;
using Platform.Data.Retention;

namespace Platform.Messaging;

public static class EventConsumerExtensions
{
    /// <summary>
    /// Consumes the events of <paramref name="routingKeys"/> (event types, or topic patterns such as
    /// <c>user.*</c>) from the service's durable <paramref name="queue"/> (e.g. <c>tasks.events</c>) with
    /// <typeparamref name="THandler"/>. The queue name also names the consumer in <c>processed_events</c>, so it
    /// must stay stable. Old event ids are removed after the <c>processed_events</c> horizon
    /// (<see cref="ProcessedEventsRetention"/>). Needs <c>AddPlatformPostgres</c> and <c>AddPlatformRabbitMq</c>.
    /// </summary>
    public static WebApplicationBuilder AddPlatformEventConsumer<THandler>(
        this WebApplicationBuilder builder,
        string queue,
        IReadOnlyCollection<string> routingKeys,
        Action<EventConsumerOptions>? configure = null)
        where THandler : class, IIntegrationEventHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        ArgumentNullException.ThrowIfNull(routingKeys);
        if (routingKeys.Count == 0 || routingKeys.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A consumer needs at least one routing key, and none may be empty.", nameof(routingKeys));
        }
        var options = new EventConsumerOptions();
        configure?.Invoke(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);

        var registration = new EventConsumerRegistration(queue, [.. routingKeys], options);
        builder.Services.AddMessagingSchema();
        builder.AddPlatformRetention(ProcessedEventsRetention.Rule);
        builder.Services.TryAddScoped<THandler>();
        builder.Services.TryAddSingleton<EventConsumerMetrics>();
        builder.Services.AddSingleton<IHostedService>(services =>
        {
            var logger = services.GetRequiredService<ILogger<EventConsumer>>();
            var processor = new IdempotentEventProcessor(queue, typeof(THandler), services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<IServiceScopeFactory>(), logger);
            return ActivatorUtilities.CreateInstance<EventConsumer>(services, registration, processor);
        });
        return builder;
    }
}
