using System.Text.Json.Nodes;
using Platform.Gateway.Events;
using Platform.Hosting.Problems;

namespace Platform.Gateway.ApiDocs;

/// <summary>The operations the gateway answers itself rather than forwards, added to the merged document.</summary>
public static class EdgeOperations
{
    public const string EventsTag = "events";

    public static void AddEventStream(JsonObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var paths = document["paths"]!.AsObject();
        paths[EventStreamApi.Path] = new JsonObject
        {
            ["get"] = new JsonObject
            {
                ["tags"] = new JsonArray(EventsTag),
                ["summary"] = "Stream the caller's events (Server-Sent Events)",
                ["description"] = "A text/event-stream of the caller's own events: task.created, task.updated (data.task and data.etag), task.deleted "
                    + "(data.taskId), file.uploaded (data.file), file.deleted (data.fileId) and the session.* events of the caller's sessions. "
                    + "Each frame has an id (the event's UUID); reconnect with Last-Event-ID to receive what was missed within the retention window "
                    + "(1 hour by default), or a resync event (data.reason) when that is not possible: refetch, then go on. A session.terminated event "
                    + "for the stream's own session ends the stream; it also ends when the access token expires. Keep-alive comments every 15 s. "
                    + "Clients drop an id they have already seen.",
                ["operationId"] = "streamEvents",
                ["security"] = new JsonArray(new JsonObject { ["Bearer"] = new JsonArray() }),
                ["parameters"] = new JsonArray(new JsonObject
                {
                    ["name"] = EventStreamApi.LastEventIdHeader,
                    ["in"] = "header",
                    ["required"] = false,
                    ["description"] = "The id of the last event received; anything that is not one of the caller's recent event ids gets a resync event.",
                    ["schema"] = new JsonObject { ["type"] = "string" },
                }),
                ["responses"] = new JsonObject
                {
                    ["200"] = new JsonObject
                    {
                        ["description"] = "The stream, open until the token expires, the session ends or the client leaves.",
                        ["content"] = new JsonObject
                        {
                            ["text/event-stream"] = new JsonObject
                            {
                                ["schema"] = new JsonObject { ["type"] = "string" },
                                ["example"] = "id: 0193a5c2-6f1e-7c3a-9d41-2b8e5f0a7c11\nevent: task.created\ndata: {\"id\":\"0193a5c2-6f1e-7c3a-9d41-2b8e5f0a7c11\",\"type\":\"task.created\",\"occurredAt\":\"2026-12-04T03:00:00.0000000Z\",\"data\":{\"task\":{\"id\":\"0193a5c2-6f1d-7000-8000-000000000001\",\"title\":\"Buy milk\",\"version\":1},\"etag\":\"\\\"1\\\"\"}}\n\n",
                            },
                        },
                    },
                    ["401"] = Problem("No valid access token.", ProblemTypes.Unauthorized, 401),
                    ["429"] = Problem("Too many event streams of this user across the gateway instances, or on this instance.", ProblemTypes.TooManyRequests, 429),
                },
            },
        };
        var tags = document["tags"] as JsonArray ?? [];
        document["tags"] = tags;
        if (!tags.Any(tag => tag?["name"]?.GetValue<string>() == EventsTag))
        {
            tags.Add(new JsonObject { ["name"] = EventsTag, ["description"] = "Real-time sync of the caller's view across devices." });
        }
    }

    private static JsonObject Problem(string description, string type, int status) => new()
    {
        ["description"] = description,
        ["headers"] = status == 429
            ? new JsonObject { ["Retry-After"] = new JsonObject { ["description"] = "Seconds to wait before trying again.", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } } }
            : new JsonObject { ["WWW-Authenticate"] = new JsonObject { ["description"] = "The bearer challenge.", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } } },
        ["content"] = new JsonObject
        {
            ["application/problem+json"] = new JsonObject
            {
                ["schema"] = new JsonObject
                {
                    ["allOf"] = new JsonArray(
                        new JsonObject { ["$ref"] = "#/components/schemas/ProblemDetails" },
                        new JsonObject
                        {
                            ["required"] = new JsonArray("type", "title", "status"),
                            ["properties"] = new JsonObject
                            {
                                ["type"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(type) },
                                ["status"] = new JsonObject { ["type"] = "integer", ["enum"] = new JsonArray(status) },
                            },
                        }),
                },
            },
        },
    };
}
