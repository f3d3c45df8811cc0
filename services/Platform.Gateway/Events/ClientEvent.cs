using System.Text;

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
        Frame = Encoding.UTF8.GetBytes($"id: {id:D}\nevent: {type}\ndata: {data}\n\n");
    }

    public Guid Id { get; }

    public string Type { get; }

    public Guid UserId { get; }

    public string Data { get; }

    /// <summary>For <c>session.terminated</c>: the session that ended, whose own stream closes after this event.</summary>
    public Guid? TerminatedSession { get; }

    public ReadOnlyMemory<byte> Frame { get; }
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
