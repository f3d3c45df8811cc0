using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Platform.Broker;
using Platform.Data;
using Platform.Messaging;
using Platform.Testing;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>Services as the platform's would be wired: database, broker, and the messaging piece under test.</summary>
public static class MessagingHosts
{
    public static Task<TestApp> StartAsync(DataTier tier, TestDatabase database, Action<WebApplicationBuilder> messaging) =>
        TestApp.StartAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:Postgres"] = tier.PostgresPrimary;
            builder.Configuration["ConnectionStrings:RabbitMq"] = tier.RabbitMqUri;
            builder.AddPlatformPostgres(database.Name);
            builder.AddPlatformRabbitMq();
            messaging(builder);
        });

    public static Task<TestApp> StartProducerAsync(DataTier tier, TestDatabase database) =>
        StartAsync(tier, database, builder => builder.AddPlatformOutbox());

    /// <summary>
    /// The value of a sample in the app's /metrics, or null when it is not exported: <paramref name="series"/> is a
    /// name (an unlabelled sample) or a name with its labels as exposed, e.g. <c>events_dead_lettered_total{queue="q"}</c>.
    /// </summary>
    public static async Task<double?> ReadMetricAsync(this TestApp app, string series)
    {
        var text = await app.Client.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
