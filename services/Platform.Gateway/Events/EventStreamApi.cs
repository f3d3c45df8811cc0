using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Platform.Authentication;
using Platform.Gateway.Edge;
using Platform.Hosting.Http;
using Platform.Hosting.Problems;
using Platform.Redis;

namespace Platform.Gateway.Events;

/// <summary>
/// <c>GET /api/events</c>: the caller's own events as Server-Sent Events, written and flushed one by one. With
/// <c>Last-Event-ID</c> the events logged after that one come first; when the log cannot resume from it (malformed,
/// unknown, expired, another user's, or Redis unavailable) a <c>resync</c> event says so and the client refetches.
/// </summary>
public static partial class EventStreamApi
{
    public const string Path = "/api/events";
    public const string LastEventIdHeader = "Last-Event-ID";

    public static IEndpointConventionBuilder MapEventStream(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, StreamAsync).RequireAuthorization().AnswerHeadLikeGet();

    private static async Task StreamAsync(HttpContext context, EventStreamHub hub, EventLog log, EventStreamMetrics metrics, TimeProvider time, ILoggerFactory loggers)
    {
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // What a stream would start with, without opening one: a HEAD takes no stream slot and waits for nothing.
            SetStreamHeaders(context.Response);
            return;
        }
        var user = context.User;
        var userId = user.UserId();
        var sessionId = user.SessionId();
        var (subscriber, refusal) = await hub.TryOpenAsync(userId, sessionId, ExpiresAt(user, time), context.RequestAborted);
        if (subscriber is null)
        {
            context.Response.Headers.RetryAfter = "5";
            await context.WriteProblemAsync(StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests, "Too many event streams.", refusal!);
            return;
        }
        try
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var response = context.Response;
            SetStreamHeaders(response);
            var aborted = context.RequestAborted;
            await WriteAsync(response, StreamFrames.Opening, aborted);

            HashSet<Guid>? replayed = null;
            if (context.Request.Headers.TryGetValue(LastEventIdHeader, out var header))
            {
                replayed = await ReplayAsync(context, header.ToString(), userId, sessionId, log, metrics, loggers, aborted);
            }
            await foreach (var item in subscriber.Reader.ReadAllAsync(aborted))
            {
                if (item is null)
                {
                    await WriteAsync(response, StreamFrames.KeepAlive, aborted);
                    continue;
                }
                if (replayed?.Contains(item.Id) == true)
                {
                    continue; // arrived live while the log was being read
                }
                await WriteAsync(response, item.Frame, aborted);
                subscriber.Wrote(time.GetUtcNow());
                metrics.Delivered();
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            await hub.CloseAsync(subscriber);
        }
    }

    private static void SetStreamHeaders(HttpResponse response)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        // For an nginx in front that was not configured for streams: do not buffer this answer.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>The subscriber is registered before the log is read, so nothing falls between the replay and the live events.</summary>
    private static async Task<HashSet<Guid>?> ReplayAsync(HttpContext context, string lastEventId, Guid userId, Guid sessionId, EventLog log, EventStreamMetrics metrics, ILoggerFactory loggers, CancellationToken aborted)
    {
        if (!Guid.TryParseExact(lastEventId.Trim(), "D", out var eventId))
        {
            await ResyncAsync(context.Response, metrics, "malformed", aborted);
            return null;
        }
        IReadOnlyList<ClientEvent>? missed;
        try
        {
            missed = await log.ReadAfterAsync(userId, eventId, aborted);
        }
        catch (Exception e) when (RedisConnection.IsOutage(e) && !aborted.IsCancellationRequested)
        {
            LogResumeUnavailable(loggers.CreateLogger(typeof(EventStreamApi)), e.Message);
            await ResyncAsync(context.Response, metrics, "unavailable", aborted);
            return null;
        }
        if (missed is null)
        {
            await ResyncAsync(context.Response, metrics, "unknown", aborted);
            return null;
        }
        var replayed = new HashSet<Guid>();
        foreach (var clientEvent in missed.Where(missedEvent => missedEvent.IsFor(sessionId)))
        {
            await WriteAsync(context.Response, clientEvent.Frame, aborted);
            replayed.Add(clientEvent.Id);
            metrics.Delivered();
        }
        return replayed;
    }

    private static async Task ResyncAsync(HttpResponse response, EventStreamMetrics metrics, string reason, CancellationToken aborted)
    {
        metrics.Resynced(reason);
        await WriteAsync(response, StreamFrames.Resync(reason), aborted);
    }

    private static async Task WriteAsync(HttpResponse response, ReadOnlyMemory<byte> frame, CancellationToken aborted)
    {
        await response.Body.WriteAsync(frame, aborted);
        await response.Body.FlushAsync(aborted);
    }

    /// <summary>The stream ends when the token that opened it expires; the client reconnects with a fresh one and its Last-Event-ID.</summary>
    private static DateTimeOffset ExpiresAt(System.Security.Claims.ClaimsPrincipal user, TimeProvider time) =>
        long.TryParse(user.FindFirst("exp")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : time.GetUtcNow().AddMinutes(10);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An event stream could not resume from the log (Redis unavailable); the client was told to resync: {Error}")]
    private static partial void LogResumeUnavailable(ILogger logger, string error);
}
