using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform.Data.Retention;

public static class RetentionExtensions
{
    /// <summary>
    /// Removes the rows of <paramref name="rule"/>'s table older than its horizon, with the service's one retention
    /// job (section "Retention", validated at start against every rule's minimum). A table registered twice keeps
    /// its first rule, so pieces that share a table (every event consumer and <c>processed_events</c>) may each
    /// register it. Needs <c>AddPlatformPostgres</c>: rows go from the primary.
    /// </summary>
    public static WebApplicationBuilder AddPlatformRetention(this WebApplicationBuilder builder, RetentionRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(RetentionRule) && d.ImplementationInstance is RetentionRule existing && existing.Table == rule.Table))
        {
            return builder;
        }
        services.AddSingleton(rule);
        if (services.Any(d => d.ServiceType == typeof(RetentionRunner)))
        {
            return builder;
        }
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RetentionMetrics>();
        services.AddSingleton<RetentionRunner>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<RetentionRunner>());
        return builder;
    }
}
