using System.Net;
using System.Text;
using System.Text.Json;

namespace Platform.Gateway.Tests;

/// <summary>One Server-Sent Event as a client parses it (WHATWG HTML §9.2): a comment has only <see cref="Comment"/>.</summary>
public sealed record ServerSentEvent(string? Id, string? Type, string? Data, string? Comment = null)
{
    public JsonElement Json => JsonDocument.Parse(Data!).RootElement;
}

/// <summary>A real client of <c>GET /api/events</c>: opens the stream, then reads it frame by frame with a deadline.</summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly HttpResponseMessage response;
    private readonly StreamReader reader;

    private EventStreamClient(HttpClient http, HttpResponseMessage response, StreamReader reader)
    {
        this.http = http;
        this.response = response;
        this.reader = reader;
    }

    public HttpResponseMessage Response => response;

    /// <summary>Opens the stream; the answer may be an error, which the caller inspects through <see cref="Response"/>.</summary>
    public static async Task<EventStreamClient> OpenAsync(Uri gateway, string token, string? clientAddress = null, string? lastEventId = null)
    {
        var http = new HttpClient { BaseAddress = gateway, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (clientAddress is not null)
        {
            request.Headers.Add("X-Forwarded-For", clientAddress);
        }
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        return new EventStreamClient(http, response, reader);
    }

    /// <summary>The next frame (an event, or a comment when <paramref name="comments"/>); null at the end of the stream.</summary>
    public async Task<ServerSentEvent?> NextAsync(TimeSpan timeout, bool comments = false)
    {
        using var deadline = new CancellationTokenSource(timeout);
        string? id = null, type = null, comment = null;
        StringBuilder? data = null;
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No event within {timeout.TotalSeconds:0.#} s.");
            }
            if (line is null)
            {
                return null;
            }
            if (line.Length == 0)
            {
                if (data is not null || type is not null)
                {
                    return new ServerSentEvent(id, type, data?.ToString());
                }
                if (comment is not null && comments)
                {
                    return new ServerSentEvent(null, null, null, comment);
                }
                id = type = comment = null;
                continue;
            }
            if (line.StartsWith(':'))
            {
                comment = line[1..].Trim();
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value); break;
            }
        }
    }

    /// <summary>
    /// The next event that is not a comment. Unless <paramref name="sessionEvents"/>, auth's <c>session.*</c> events
    /// are skipped too: they arrive whenever the outbox relays a sign-in, so a test of task and file events would
    /// otherwise depend on that timing.
    /// </summary>
    public async Task<ServerSentEvent> NextEventAsync(TimeSpan timeout, bool sessionEvents = false)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var next = await NextAsync(Remaining(deadline, timeout)) ?? throw new InvalidOperationException("The stream ended.");
            if (sessionEvents || next.Type is null || !(next.Type.StartsWith("session.", StringComparison.Ordinal) || next.Type.StartsWith("sessions.", StringComparison.Ordinal)))
            {
                return next;
            }
        }
    }

    private static TimeSpan Remaining(DateTimeOffset deadline, TimeSpan timeout)
    {
        var left = deadline - DateTimeOffset.UtcNow;
        return left > TimeSpan.Zero ? left : throw new TimeoutException($"No event within {timeout.TotalSeconds:0.#} s.");
    }

    public HttpStatusCode StatusCode => response.StatusCode;

    public async ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        http.Dispose();
        await Task.CompletedTask;
    }
}
