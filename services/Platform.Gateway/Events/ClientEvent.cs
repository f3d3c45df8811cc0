using System.Text;
using System.Text.Json;

namespace Platform.Gateway.Events;

/// <summary>
/// One event as a client receives it: the Server-Sent Events frame (<c>id</c>, <c>event</c>, <c>data</c>), built once
/// and written to every stream of its user. <see cref="Data"/> is the JSON of the <c>data</c> line, which is also what
/// the resume log keeps.
/// </summary>
public sealed class ClientEvent
{
    public ClientEvent(Guid id, string type, Guid userId, string data, Guid? terminatedSession = null)
    {
        Id = id;
        Type = type;
        UserId = userId;
        Data = data;
        TerminatedSession = terminatedSession;
        CreatedSession = type == SessionCreated ? SessionIdOf(data) : null;
        Frame = Encoding.UTF8.GetBytes($"id: {id:D}\nevent: {type}\ndata: {data}\n\n");
    }

    public Guid Id { get; }

    public string Type { get; }

    public Guid UserId { get; }

    public string Data { get; }

    /// <summary>For <c>session.terminated</c>: the session that ended, whose own stream closes after this event.</summary>
    public Guid? TerminatedSession { get; }

    /// <summary>
    /// For <c>session.created</c>: the new session. Its own streams skip the event — a device knows it signed in;
    /// the user's other devices learn of it.
    /// </summary>
    public Guid? CreatedSession { get; }

    public ReadOnlyMemory<byte> Frame { get; }

    /// <summary>Whether a stream of <paramref name="sessionId"/> receives this event.</summary>
    public bool IsFor(Guid sessionId) => CreatedSession != sessionId;

    private const string SessionCreated = "session.created";

    private static Guid? SessionIdOf(string envelope)
    {
        try
        {
            using var document = JsonDocument.Parse(envelope);
            return document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("sessionId", out var session) && session.TryGetGuid(out var id) ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Frames the stream writes that are not events of the exchange.</summary>
public static class StreamFrames
{
    /// <summary>Sent instead of the missed events when a Last-Event-ID cannot be resumed: the client refetches its view.</summary>
    public static ReadOnlyMemory<byte> Resync(string reason) =>
        Encoding.UTF8.GetBytes($"event: resync\ndata: {{\"reason\":\"{reason}\"}}\n\n");

    /// <summary>A comment line: ignored by clients, keeps proxies and idle timers from closing the connection.</summary>
    public static readonly ReadOnlyMemory<byte> KeepAlive = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    /// <summary>How long a client waits before reconnecting when the stream ends (the EventSource <c>retry</c> field).</summary>
    public static readonly ReadOnlyMemory<byte> Opening = Encoding.UTF8.GetBytes("retry: 2000\n\n");
}
