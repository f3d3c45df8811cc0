using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Platform.Hosting;
using Platform.Hosting.Health;

namespace Platform.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// The process's Redis connection, its readiness check and its gauge (<see cref="RedisMetrics"/>). A service that
    /// only degrades without Redis (the gateway: rate limits fall back to memory) passes
    /// <see cref="HealthStatus.Degraded"/>, so an outage does not take it out of its load balancer.
    /// </summary>
    public static WebApplicationBuilder AddPlatformRedis(this WebApplicationBuilder builder, HealthStatus outageStatus = HealthStatus.Unhealthy)
    {
        var connectionString = builder.Configuration[ConfigurationKeys.RedisConnection];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:Redis is not set.");
        }
        builder.Services.AddSingleton<IRedisConnection>(services =>
            RedisConnection.Connect(RedisConnection.Options(connectionString, builder.Configuration), builder.Environment.ApplicationName, services.GetRequiredService<ILogger<RedisConnection>>()));
        builder.Services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", failureStatus: outageStatus, tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        builder.Services.AddHostedService<RedisMetrics>();
        return builder;
    }
}
