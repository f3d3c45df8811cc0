using System.Globalization;
using Microsoft.Extensions.Options;
using Platform.Redis;
using StackExchange.Redis;

namespace Platform.Gateway.Events;

/// <summary>
/// The resume log: per user a Redis stream <c>events:{user}</c> of the events sent to that user, trimmed to
/// <see cref="EventStreamOptions.RetentionSeconds"/> and <see cref="EventStreamOptions.MaxEventsPerUser"/>, and per
/// event a key <c>events:{user}:id:{event id}</c> holding the event's entry id, with the same lifetime.
/// <para>
/// Every gateway instance consumes every event and appends it; the append is one script that returns the entry of
/// an event already logged instead of adding it again, so however many instances (or broker redeliveries) see an
/// event it is logged exactly once, with no election of a writer and nothing lost while any one instance is up.
/// The <c>{user}</c> hash tag keeps both keys in one slot of a Redis Cluster.
/// </para>
/// </summary>
public sealed class EventLog(IRedisConnection redis, IOptions<EventStreamOptions> options)
{
    private const string AppendScript = """
        local known = redis.call('GET', KEYS[2])
        if known then return known end
        local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[2], 'type', ARGV[3], 'data', ARGV[4])
        redis.call('SET', KEYS[2], entry, 'EX', ARGV[5])
        local now = redis.call('TIME')
        redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', (tonumber(now[1]) - tonumber(ARGV[5])) * 1000))
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        return entry
        """;

    // False: the id is not in this user's log (unknown, another user's, or expired). Otherwise the entries after it,
    // or false too when the entry itself was trimmed (the log no longer reaches back to it).
    private const string ReadAfterScript = """
        local entry = redis.call('GET', KEYS[2])
        if not entry then return false end
        if #redis.call('XRANGE', KEYS[1], entry, entry) == 0 then return false end
        return redis.call('XRANGE', KEYS[1], '(' .. entry, '+')
        """;

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    /// <summary>Down or hung (<see cref="IRedisConnection.IsConnected"/>): the outage now, not after the budget.</summary>
    private void ThrowIfUnavailable()
    {
        if (!redis.IsConnected)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not answering");
        }
    }

    private static RedisKey StreamKey(Guid userId) => $"events:{{{userId:D}}}";

    private static RedisKey IdKey(Guid userId, Guid eventId) => $"events:{{{userId:D}}}:id:{eventId:D}";

    /// <summary>Appends the event unless already logged. Throws when Redis is unavailable (see <see cref="RedisConnection.IsOutage"/>).</summary>
    public async Task AppendAsync(ClientEvent clientEvent, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        var settings = options.Value;
        await redis.Database.ScriptEvaluateAsync(AppendScript,
            [StreamKey(clientEvent.UserId), IdKey(clientEvent.UserId, clientEvent.Id)],
            [settings.MaxEventsPerUser, clientEvent.Id.ToString("D"), clientEvent.Type, clientEvent.Data, settings.RetentionSeconds])
            .WaitAsync(Budget, cancellationToken);
    }

    /// <summary>The user's events logged after <paramref name="lastEventId"/>, oldest first; null when the log cannot resume from it.</summary>
    public async Task<IReadOnlyList<ClientEvent>?> ReadAfterAsync(Guid userId, Guid lastEventId, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        var result = await redis.Database.ScriptEvaluateAsync(ReadAfterScript, [StreamKey(userId), IdKey(userId, lastEventId)])
            .WaitAsync(Budget, cancellationToken);
        if (result.IsNull || result.Resp2Type != ResultType.Array)
        {
            return null;
        }
        var events = new List<ClientEvent>();
        foreach (var entry in (RedisResult[])result!)
        {
            var fields = (RedisResult[])((RedisResult[])entry!)[1]!;
            string? id = null, type = null, data = null;
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                switch ((string?)fields[i])
                {
                    case "id": id = (string?)fields[i + 1]; break;
                    case "type": type = (string?)fields[i + 1]; break;
                    case "data": data = (string?)fields[i + 1]; break;
                }
            }
            if (Guid.TryParse(id, CultureInfo.InvariantCulture, out var eventId) && type is not null && data is not null)
            {
                events.Add(new ClientEvent(eventId, type, userId, data));
            }
        }
        return events;
    }
}
