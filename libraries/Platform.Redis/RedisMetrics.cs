using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Platform.Redis;

/// <summary>
/// <c>platform_redis_available</c>: 1 while this process uses Redis, 0 while its connection counts Redis as lost —
/// down, or hung and leaving pings unanswered (<see cref="IRedisConnection.IsConnected"/>) — and every caller falls
/// back: auth's throttles and quotas per pod, tasks without its cache, the gateway's limits per instance. Read at each
/// scrape, so it shows what the callers see. Named <c>platform_</c>, not <c>redis_</c>: those are the Redis exporter's.
/// A hosted service, so the series exists from the host's start, before any part has used Redis.
/// </summary>
internal sealed class RedisMetrics(IRedisConnection redis, IMeterFactory meters) : IHostedService
{
    public const string MeterName = "Platform.Redis";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        meters.Create(MeterName).CreateObservableGauge("platform.redis.available", () => redis.IsConnected ? 1 : 0, unit: "{state}",
            description: "1 while this process uses Redis, 0 while it counts Redis as down or hung and falls back without it.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
