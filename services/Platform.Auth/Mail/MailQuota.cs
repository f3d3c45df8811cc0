using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Auth.Mail;

/// <summary>
/// At most <see cref="AccountOptions.MailsPerAddress"/> mails of one kind to one address per
/// <see cref="AccountOptions.MailQuotaWindow"/>, counted whether or not the address has an account (so the count
/// tells nothing either). Like the login throttle, the counts live in Redis for every replica, in memory while Redis
/// is down; the gateway limits each client besides (policy <c>account-mail</c>).
/// </summary>
public sealed partial class MailQuota(IRedisConnection redis, IOptions<AccountOptions> options, ILogger<MailQuota> logger) : IDisposable
{
    private const string TakeScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        return count
        """;

    private readonly MemoryCache fallback = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly Lock fallbackGate = new();

    /// <summary>Counts one mail of <paramref name="kind"/> to the address; false when the address had its quota.</summary>
    public async Task<bool> TryTakeAsync(string kind, string emailNormalized)
    {
        var settings = options.Value;
        var key = Key(kind, emailNormalized);
        if (!redis.IsConnected)
        {
            return TakeInMemory(key, settings) <= settings.MailsPerAddress; // down or hung: no wait for a timeout
        }
        long count;
        try
        {
            count = (long)await redis.Database.ScriptEvaluateAsync(TakeScript, [key], [(long)settings.MailQuotaWindow.TotalMilliseconds]);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e))
        {
            LogRedisDown(logger, e);
            count = TakeInMemory(key, settings);
        }
        return count <= settings.MailsPerAddress;
    }

    private long TakeInMemory(RedisKey key, AccountOptions settings)
    {
        lock (fallbackGate)
        {
            var count = fallback.TryGetValue(key.ToString(), out long previous) ? previous + 1 : 1;
            fallback.Set(key.ToString(), count, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = settings.MailQuotaWindow });
            return count;
        }
    }

    public void Dispose() => fallback.Dispose();

    /// <summary>A hash of the address, not the address: no personal data in Redis key names.</summary>
    private static RedisKey Key(string kind, string emailNormalized) =>
        $"mail:quota:{kind}:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(emailNormalized)), 0, 16);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable for the mail quota; using this replica's memory")]
    private static partial void LogRedisDown(ILogger logger, Exception exception);
}
