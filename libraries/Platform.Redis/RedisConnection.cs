using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Platform.Hosting;
using StackExchange.Redis;

namespace Platform.Redis;

/// <summary>
/// The one Redis connection of a process. Callers use the async API of <see cref="Database"/> and
/// <see cref="Subscriber"/> only. While Redis is unreachable commands fail fast instead of queueing, so a
/// Redis outage makes callers fall back at once rather than wait; the connection and its subscriptions come
/// back by themselves, and <see cref="Restored"/> tells who must resynchronise state kept from Redis;
/// <see cref="Lost"/> tells who must look elsewhere meanwhile. A Redis that hangs with its connections open counts as
/// lost too, once it leaves pings unanswered (<see cref="RedisConnection"/>), so callers that ask
/// <see cref="IsConnected"/> before a call fall back instead of each waiting out a timeout.
/// </summary>
public interface IRedisConnection
{
    IDatabase Database { get; }

    ISubscriber Subscriber { get; }

    bool IsConnected { get; }

    event EventHandler? Restored;

    event EventHandler? Lost;

    Task<TimeSpan> PingAsync();
}

public sealed partial class RedisConnection : IRedisConnection, IDisposable
{
    /// <summary>
    /// Whether an exception from a Redis call means Redis is unavailable, so the caller should fall back rather
    /// than fail: refused or dropped (<see cref="RedisException"/>), hung (<see cref="RedisTimeoutException"/> is a
    /// <see cref="TimeoutException"/>), cancelled by the client when it gave up on the connection, or torn down
    /// mid-read — a hung server whose connection the client abandons surfaces from the socket pipe as an
    /// <see cref="InvalidOperationException"/>, <see cref="ObjectDisposedException"/> or <see cref="IOException"/>
    /// (seen with Redis stopped by SIGSTOP). Callers wrap only the Redis call, so nothing else is caught by this.
    /// </summary>
    public static bool IsOutage(Exception exception) =>
        exception is RedisException or TimeoutException or OperationCanceledException
            or InvalidOperationException or ObjectDisposedException or IOException;

    /// <summary>
    /// How often an open connection is asked a PING, and how long an answer may take: a Redis that hangs (a stopped
    /// process, a partition that drops packets) keeps the connection open, and the client gives it up only after a
    /// minute or more without reads. Meanwhile every command would wait out <c>AsyncTimeout</c> (2 s).
    /// </summary>
    internal static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pings unanswered in a row before the connection counts as lost, and answered in a row before it counts as
    /// restored: a stall of a second or two (a fork for a snapshot, a slow script) is a hiccup, and one that comes and
    /// goes must not flip every pod between Redis and its fallback, each flip back a resync, at the same instant.
    /// </summary>
    internal const int ProbeFailuresToLose = 3;

    internal const int ProbeAnswersToRestore = 2;

    private readonly ConnectionMultiplexer multiplexer;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private volatile bool unresponsive;
    private volatile bool disposed;

    private RedisConnection(ConnectionMultiplexer multiplexer, ILogger logger)
    {
        this.multiplexer = multiplexer;
        this.logger = logger;
        multiplexer.ConnectionFailed += (_, e) =>
        {
            LogConnectionFailed(logger, e.EndPoint?.ToString(), e.FailureType.ToString());
            Raise(Lost);
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            LogConnectionRestored(logger, e.EndPoint?.ToString());
            unresponsive = false; // a new connection: the probe judges it afresh (and its count starts again, below)
            Raise(Restored);
        };
        _ = ProbeAsync(stopping.Token);
    }

    public event EventHandler? Restored;

    public event EventHandler? Lost;

    public IDatabase Database => multiplexer.GetDatabase();

    public ISubscriber Subscriber => multiplexer.GetSubscriber();

    /// <summary>Connected, and answering its pings.</summary>
    public bool IsConnected => !unresponsive && multiplexer.IsConnected;

    public Task<TimeSpan> PingAsync() => multiplexer.GetDatabase().PingAsync();

    /// <summary>Connects without failing when Redis is down: the connection keeps retrying in the background.</summary>
    public static RedisConnection Connect(string connectionString, string clientName, ILogger logger) =>
        Connect(ConfigurationOptions.Parse(connectionString), clientName, logger);

    /// <summary>Connects without failing when Redis is down: the connection keeps retrying in the background.</summary>
    public static RedisConnection Connect(ConfigurationOptions options, string clientName, ILogger logger)
    {
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName = clientName;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2_000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 2_000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 2_000);
        options.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 2_000);
        // The client's own pool of ten I/O threads reads each reply and hands it to another thread; on .NET's pool the
        // thread that reads a reply runs its continuation. Measured (make bench, scenario runtime, the arm
        // Redis__SocketManager=Dedicated): tasks' CPU per cached read 54–58 µs on .NET's pool, 77–95 µs on the
        // dedicated threads. The price: replies wait if the pool is starved — nothing here blocks a pool thread.
        options.SocketManager ??= SocketManager.ThreadPool;
        var multiplexer = ConnectionMultiplexer.Connect(options);
        return new RedisConnection(multiplexer, logger);
    }

    /// <summary>
    /// The options from ConnectionStrings:Redis (endpoints, ssl, …), with the password from Redis:Password and the CA
    /// of a TLS server from Redis:CaCertificate (PEM): the password as stored in its Secret, since a ',' or '=' in it
    /// would split the connection string.
    /// </summary>
    public static ConfigurationOptions Options(string connectionString, IConfiguration configuration)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        if (configuration[ConfigurationKeys.RedisPassword] is { Length: > 0 } password)
        {
            options.Password = password;
        }
        if (configuration[ConfigurationKeys.RedisCaCertificate] is { Length: > 0 } ca)
        {
            options.TrustIssuer(TrustedCa.Certificate(ca));
        }
        if (configuration[ConfigurationKeys.RedisSocketManager] == "Dedicated")
        {
            options.SocketManager = SocketManager.Shared;
        }
        return options;
    }

    public void Dispose()
    {
        disposed = true;
        stopping.Cancel();
        multiplexer.Dispose();
        stopping.Dispose();
    }

    /// <summary>
    /// Pings an open connection every <see cref="ProbeInterval"/>: after <see cref="ProbeFailuresToLose"/> unanswered
    /// in a row it counts as lost (<see cref="Lost"/>, <see cref="IsConnected"/> false) until
    /// <see cref="ProbeAnswersToRestore"/> are answered in a row, which counts as restored: whoever skipped Redis
    /// meanwhile (marks, counts, revocation messages that timed out) writes or reads again what it keeps there.
    /// </summary>
    private async Task ProbeAsync(CancellationToken stoppingToken)
    {
        var timer = new PeriodicTimer(ProbeInterval);
        int unanswered = 0, answered = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!multiplexer.IsConnected)
                {
                    unanswered = answered = 0; // down, not hung: the multiplexer reports it, reconnects and reports that
                    continue;
                }
                try
                {
                    await multiplexer.GetDatabase().PingAsync().WaitAsync(ProbeInterval, stoppingToken);
                    unanswered = 0;
                    if (unresponsive && ++answered >= ProbeAnswersToRestore)
                    {
                        unresponsive = false;
                        LogAnsweringAgain(logger, answered);
                        Raise(Restored);
                    }
                }
                catch (Exception e) when (IsOutage(e) && !stoppingToken.IsCancellationRequested && !disposed)
                {
                    answered = 0;
                    if (++unanswered >= ProbeFailuresToLose && !unresponsive)
                    {
                        unresponsive = true;
                        LogUnresponsive(logger, unanswered, ProbeInterval.TotalSeconds);
                        Raise(Lost);
                    }
                }
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested || disposed)
        {
            // disposed
        }
        catch (Exception e)
        {
            unresponsive = false; // without a probe, the multiplexer's own view is the best there is
            LogProbeStopped(logger, e);
        }
        finally
        {
            timer.Dispose();
        }
    }

    /// <summary>A subscriber's failure is logged: it must neither stop the probe nor the multiplexer's events.</summary>
    private void Raise(EventHandler? handler)
    {
        if (disposed)
        {
            return;
        }
        try
        {
            handler?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception e)
        {
            LogHandlerFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis connection to {Endpoint} failed: {FailureType}")]
    private static partial void LogConnectionFailed(ILogger logger, string? endpoint, string failureType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis left {Count} pings in a row unanswered for {Seconds} s each: counted as lost until it answers (callers fall back)")]
    private static partial void LogUnresponsive(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answered {Count} pings in a row again: counted as restored")]
    private static partial void LogAnsweringAgain(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis ping probe stopped")]
    private static partial void LogProbeStopped(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of the Redis connection's Lost or Restored event failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection to {Endpoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, string? endpoint);
}
