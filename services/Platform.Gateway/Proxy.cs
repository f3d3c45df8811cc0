using System.Globalization;
using Platform.Gateway.Edge;
using Platform.Gateway.RateLimiting;
using Platform.Gateway.Resilience;
using Platform.Gateway.Upstreams;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.ServiceDiscovery;
using Yarp.ReverseProxy.Transforms;

namespace Platform.Gateway;

public static class Proxy
{
    /// <summary>Route metadata overriding <see cref="ResilienceOptions.TimeoutSeconds"/> for one route.</summary>
    public const string TimeoutMetadata = "TimeoutSeconds";

    /// <summary>
    /// Routes and upstreams from the <c>ReverseProxy</c> section, with per-route timeouts, resilient upstream
    /// clients, rate limits, health of the upstreams and every pod behind an upstream's host name as a destination.
    /// </summary>
    public static WebApplicationBuilder AddProxy(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("ReverseProxy");
        if (!section.GetSection("Routes").GetChildren().Any())
        {
            throw new InvalidOperationException($"No ReverseProxy:Routes configured (content root {builder.Environment.ContentRootPath}); the gateway would route nothing.");
        }
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ResponseHeaderEncodingSelector = Utf8ResponseHeaders.Client);
        var services = builder.Services;
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .Validate(options => options.Policies.Values.All(policy => policy.Limit > 0 && policy.WindowSeconds > 0 && policy.Burst is null or > 0),
                "every RateLimiting policy needs Limit, WindowSeconds and Burst (if set) above 0")
            .ValidateOnStart();
        services.AddSingleton<GatewayMetrics>();
        GatewayMetrics.DropDuplicateClientMetrics(services);
        services.AddSingleton<UpstreamResilience>();
        services.AddSingleton<IForwarderHttpClientFactory, ResilientForwarderHttpClientFactory>();
        services.AddSingleton<UpstreamHealth>();
        services.AddSingleton<RedisRateLimiter>();
        services.AddSingleton<PermitLeases>();
        services.AddSingleton<MemoryRateLimiter>();
        services.AddSingleton<EdgeRateLimiter>();
        services.AddOptions<UpstreamAddressOptions>().BindConfiguration(UpstreamAddressOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHealthChecks().AddCheck<UpstreamsHealthCheck>("upstreams", tags: [Hosting.Health.HealthEndpoints.ReadyTag]);

        services.AddReverseProxy()
            .LoadFromConfig(section)
            .AddTransforms(context =>
            {
                TraceContext.Propagate(context);
                UpstreamErrors.RecordAnswers(context);
                var metadata = context.Route.Metadata;
                if (metadata?.GetValueOrDefault(RateLimitMiddleware.PolicyMetadata) is { } policy && policy != RateLimitMiddleware.NoPolicy
                    && !builder.Configuration.GetSection($"{RateLimitOptions.Section}:Policies:{policy}").Exists())
                {
                    throw new InvalidOperationException($"Route '{context.Route.RouteId}' names rate-limit policy '{policy}', which RateLimiting:Policies does not define.");
                }
                if (metadata?.GetValueOrDefault(TimeoutMetadata) is { } value)
                {
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
                    {
                        throw new InvalidOperationException($"Route '{context.Route.RouteId}' has {TimeoutMetadata} '{value}'; it must be a positive number of seconds.");
                    }
                    var timeout = TimeSpan.FromSeconds(seconds);
                    context.AddRequestTransform(transform =>
                    {
                        transform.ProxyRequest.Options.Set(UpstreamResilience.TimeoutOption, timeout);
                        return ValueTask.CompletedTask;
                    });
                }
            });
        // After AddReverseProxy, so it replaces YARP's resolver that passes destinations through as they are.
        services.AddSingleton<IDestinationResolver, UpstreamAddresses>();
        return builder;
    }

    /// <summary>
    /// The per-request pipeline after routing and authentication: body limits, rate limits, small bodies read whole, metrics of what the client got,
    /// problem details for failed forwards, then YARP's own load balancing and passive health.
    /// </summary>
    public static WebApplication MapProxy(this WebApplication app)
    {
        app.MapPlatformHealth();
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseBodyLimits();
            pipeline.UseEdgeRateLimits();
            pipeline.UseRequestBuffering();
            pipeline.UseUpstreamMetrics(); // and problem details for a failed forward
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }
}
