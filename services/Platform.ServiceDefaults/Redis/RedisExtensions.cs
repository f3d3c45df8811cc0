using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.ServiceDefaults.Health;

namespace Platform.ServiceDefaults.Redis;

public static class RedisExtensions
{
    public static WebApplicationBuilder AddPlatformRedis(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:Redis is not set.");
        }
        builder.Services.AddSingleton<IRedisConnection>(services =>
            RedisConnection.Connect(connectionString, builder.Environment.ApplicationName, services.GetRequiredService<ILogger<RedisConnection>>()));
        builder.Services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return builder;
    }
}
