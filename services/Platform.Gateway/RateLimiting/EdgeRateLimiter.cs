using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Platform.Hosting.Http;
using Platform.Redis;

namespace Platform.Gateway.RateLimiting;

/// <summary>
/// Decides whether a client may pass, against the budget all gateway instances share in Redis; while Redis is
/// unreachable, against this instance's own memory, so limits still hold (per instance) and no request fails
/// because of the outage.
/// </summary>
public sealed partial class EdgeRateLimiter
{
    private readonly Dictionary<string, (RateLimitPolicyOptions Options, Gcra Gcra, string Header)> policies;
    private readonly IPNetwork[] exemptNetworks;
    private readonly RedisRateLimiter redis;
    private readonly PermitLeases leases;
    private readonly ConcurrentDictionary<string, Task<RateLimitDecision>> pending = new(StringComparer.Ordinal);
    private readonly MemoryRateLimiter memory;
    private readonly GatewayMetrics metrics;
    private readonly ILogger<EdgeRateLimiter> logger;

    public EdgeRateLimiter(IOptions<RateLimitOptions> options, RedisRateLimiter redis, PermitLeases leases, MemoryRateLimiter memory,
        GatewayMetrics metrics, ILogger<EdgeRateLimiter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        Enabled = settings.Enabled;
        DefaultAuthenticatedPolicy = settings.DefaultAuthenticatedPolicy;
        policies = settings.Policies.ToDictionary(pair => pair.Key,
            pair => (pair.Value, Gcra.For(pair.Value), string.Create(CultureInfo.InvariantCulture, $"{pair.Value.Limit};w={pair.Value.WindowSeconds}")),
            StringComparer.Ordinal);
        exemptNetworks = settings.ExemptNetworks.Select(IPNetwork.Parse).ToArray();
        this.redis = redis;
        this.leases = leases;
        this.memory = memory;
        this.metrics = metrics;
        this.logger = logger;
        foreach (var name in policies.Keys)
        {
            metrics.DeclarePolicy(name);
        }
    }

    public bool Enabled { get; }

    public string DefaultAuthenticatedPolicy { get; }

    public bool HasPolicy(string name) => policies.ContainsKey(name);

    public bool TryGetPolicy(string name, out RateLimitPolicyOptions policy)
    {
        var found = policies.TryGetValue(name, out var entry);
        policy = entry.Options;
        return found;
    }

    public bool IsExempt(IPAddress? address)
    {
        if (address is null || exemptNetworks.Length == 0)
        {
            return false;
        }
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return Array.Exists(exemptNetworks, network => network.Contains(normalized));
    }

    /// <summary>The <c>RateLimit-Policy</c> header of a policy: "limit;w=seconds".</summary>
    public string PolicyHeader(string name) => policies[name].Header;

    /// <summary>The key of a user's bucket under a policy, made as one string: <c>rl:{policy}:u:{id}</c>.</summary>
    public static string UserKey(string policyName, Guid userId) =>
        string.Create(policyName.Length + 38, (policyName, userId), static (key, state) =>
        {
            "rl:".CopyTo(key);
            state.policyName.CopyTo(key[3..]);
            var at = 3 + state.policyName.Length;
            ":u:".CopyTo(key[at..]);
            state.userId.TryFormat(key[(at + 3)..], out _, "N");
        });

    /// <summary>
    /// The key of a client address's bucket under a policy: <c>rl:{policy}:a:{scope}</c>, an IPv6 client's scope its
    /// /64 (<see cref="ClientScope"/>), or one subscriber could take a fresh address, and a fresh bucket, per request.
    /// </summary>
    public static string AddressKey(string policyName, IPAddress? address) => $"rl:{policyName}:a:{ClientScope.Of(address)}";

    /// <summary>A permit for <paramref name="key"/> (<see cref="UserKey"/>, <see cref="AddressKey"/>) under the policy.</summary>
    public async ValueTask<RateLimitDecision> AcquireAsync(string policyName, string key)
    {
        var gcra = policies[policyName].Gcra;
        if (redis.IsConnected)
        {
            try
            {
                var decision = await AcquireSharedAsync(key, gcra);
                metrics.RateLimitDecided(inRedis: true);
                return decision;
            }
            catch (Exception e) when (RedisConnection.IsOutage(e))
            {
                if (!metrics.RateLimiterFallback)
                {
                    LogFallback(logger, e.GetType().Name);
                }
            }
        }
        metrics.RateLimitDecided(inRedis: false);
        return memory.Acquire(key, gcra);
    }

    /// <summary>
    /// A permit from this instance's lease of the key's permits, else from Redis — one question per key at a time:
    /// requests that find none left while another asks wait for its answer and take from the lease it brings. Each
    /// asking on its own took a lease per request, so a user's 50 simultaneous requests spent 50 leases of their
    /// budget (5,000 permits) and most were refused well inside their limit.
    /// </summary>
    private async ValueTask<RateLimitDecision> AcquireSharedAsync(string key, Gcra gcra)
    {
        while (true)
        {
            if (leases.TryTake(key) is { } leased)
            {
                return leased;
            }
            var asking = new TaskCompletionSource<RateLimitDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
            var question = pending.GetOrAdd(key, asking.Task);
            if (question != asking.Task)
            {
                if (await question is { Allowed: false } refused)
                {
                    return refused; // the budget was spent when it was asked
                }
                continue;
            }
            try
            {
                var (granted, decision) = await redis.AcquireAsync(key, gcra, PermitLeases.SizeFor(gcra));
                leases.Keep(key, granted, decision);
                pending.TryRemove(new KeyValuePair<string, Task<RateLimitDecision>>(key, question)); // before waking the waiters
                asking.SetResult(decision);
                return decision;
            }
            catch (Exception e)
            {
                pending.TryRemove(new KeyValuePair<string, Task<RateLimitDecision>>(key, question));
                asking.SetException(e);
                _ = asking.Task.Exception; // observed here: nobody may be waiting on this question
                throw;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unreachable ({Reason}): rate limits now hold per gateway instance")]
    private static partial void LogFallback(ILogger logger, string reason);
}
