using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Broker;

namespace Platform.Gateway.Events;

public static class EventStreamExtensions
{
    /// <summary>
    /// The event stream (<c>EventStream</c> section): one broker consumer per instance, the resume log in Redis, the
    /// local streams. The broker is a degraded dependency: without it streams stay open and wait, requests go on.
    /// </summary>
    public static WebApplicationBuilder AddEventStream(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EventStreamOptions>().BindConfiguration(EventStreamOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (!builder.Configuration.GetValue($"{EventStreamOptions.Section}:{nameof(EventStreamOptions.Enabled)}", true))
        {
            return builder;
        }
        builder.AddPlatformRabbitMq(outageStatus: HealthStatus.Degraded);
        services.AddSingleton<IProblemDetailsWriter, EventStreamProblemWriter>();
        services.AddSingleton<EventStreamMetrics>();
        services.AddSingleton<EventLog>();
        services.AddSingleton<StreamLeases>();
        services.AddHostedService(provider => provider.GetRequiredService<StreamLeases>());
        services.AddSingleton<EventStreamHub>();
        services.AddHostedService(provider => provider.GetRequiredService<EventStreamHub>());
        services.AddSingleton<EventStreamConsumer>();
        services.AddHostedService(provider => provider.GetRequiredService<EventStreamConsumer>());
        return builder;
    }

    public static WebApplication MapEventStream(this WebApplication app)
    {
        if (app.Configuration.GetValue($"{EventStreamOptions.Section}:{nameof(EventStreamOptions.Enabled)}", true))
        {
            EventStreamApi.MapEventStream(app);
        }
        return app;
    }
}
