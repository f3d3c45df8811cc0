using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts.Events;

namespace Platform.Gateway.Events;

/// <summary>
/// What a client may see of an integration event: only events that name their owner (<c>data.userId</c>), reduced to
/// what a client needs to update its view — the task as the API answers it with its ETag, the file's metadata, the ids
/// of what was deleted — and never the owner's id, another user's data or anything secret. <c>session.*</c> and
/// <c>sessions.*</c> events (auth's, issue 18) are forwarded as they come, less the owner and any field whose name
/// suggests a secret, so new session events reach clients without a change here.
/// </summary>
public static class EventProjection
{
    private static readonly string[] TaskFields = ["id", "title", "description", "status", "dueAt", "createdAt", "updatedAt", "version"];
    private static readonly string[] SecretMarkers = ["token", "secret", "password", "hash", "key", "credential"];

    public static ClientEvent? Project(IntegrationEvent integrationEvent)
    {
        ArgumentNullException.ThrowIfNull(integrationEvent);
        var data = integrationEvent.Data;
        if (data.ValueKind != JsonValueKind.Object || !TryGuid(data, "userId", out var userId) || !IsSafeType(integrationEvent.Type))
        {
            return null;
        }
        Guid? terminated = null;
        JsonObject? payload = integrationEvent.Type switch
        {
            EventTypes.TaskCreated or EventTypes.TaskUpdated => TaskPayload(data),
            EventTypes.TaskDeleted => Pick(data, ("taskId", "id")),
            EventTypes.FileUploaded => new JsonObject
            {
                ["file"] = Pick(data, ("id", "fileId"), ("name", "name"), ("size", "size"), ("sha256", "sha256"), ("contentType", "contentType"), ("createdAt", "createdAt")),
            },
            EventTypes.FileDeleted => Pick(data, ("fileId", "fileId")),
            var type when type.StartsWith("session.", StringComparison.Ordinal) || type.StartsWith("sessions.", StringComparison.Ordinal) => WithoutSecrets(data),
            _ => null,
        };
        if (payload is null)
        {
            return null;
        }
        if (integrationEvent.Type == SessionTerminated && TryGuid(data, "sessionId", out var sessionId))
        {
            terminated = sessionId;
        }
        return new ClientEvent(integrationEvent.Id, integrationEvent.Type, userId, Envelope(integrationEvent.Id, integrationEvent.Type, integrationEvent.OccurredAt, payload), terminated);
    }

    public const string SessionTerminated = "session.terminated";

    /// <summary>The final event of a stream whose session was revoked (learnt from the revocation set, not the exchange).</summary>
    public static ClientEvent Terminated(Guid userId, Guid sessionId, string reason) =>
        new(Guid.CreateVersion7(), SessionTerminated, userId,
            Envelope(null, SessionTerminated, DateTimeOffset.UtcNow, new JsonObject { ["sessionId"] = sessionId.ToString("D"), ["reason"] = reason, ["current"] = true }),
            sessionId);

    private static string Envelope(Guid? id, string type, DateTimeOffset occurredAt, JsonObject payload)
    {
        var envelope = new JsonObject();
        if (id is { } eventId)
        {
            envelope["id"] = eventId.ToString("D");
        }
        envelope["type"] = type;
        envelope["occurredAt"] = occurredAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        envelope["data"] = payload;
        return envelope.ToJsonString();
    }

    private static JsonObject TaskPayload(JsonElement data)
    {
        var task = Pick(data, [.. TaskFields.Select(field => (field, field))]);
        var payload = new JsonObject { ["task"] = task };
        if (data.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number)
        {
            payload["etag"] = $"\"{version.GetRawText()}\"";
        }
        return payload;
    }

    private static JsonObject Pick(JsonElement data, params (string Name, string From)[] fields)
    {
        var picked = new JsonObject();
        foreach (var (name, from) in fields)
        {
            if (data.TryGetProperty(from, out var value))
            {
                picked[name] = JsonNode.Parse(value.GetRawText());
            }
        }
        return picked;
    }

    private static JsonObject WithoutSecrets(JsonElement data)
    {
        var copy = (JsonObject)JsonNode.Parse(data.GetRawText())!;
        copy.Remove("userId");
        Strip(copy);
        return copy;
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(property => property.Key).ToList())
                {
                    if (SecretMarkers.Any(marker => name.Contains(marker, StringComparison.OrdinalIgnoreCase)))
                    {
                        obj.Remove(name);
                    }
                    else
                    {
                        Strip(obj[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Strip(item);
                }
                break;
        }
    }

    private static bool TryGuid(JsonElement data, string property, out Guid value)
    {
        value = default;
        return data.TryGetProperty(property, out var element) && element.ValueKind == JsonValueKind.String && Guid.TryParse(element.GetString(), out value);
    }

    /// <summary>The type becomes the SSE <c>event</c> line: a newline or anything odd in it would break the framing.</summary>
    private static bool IsSafeType(string type) =>
        type.Length is > 0 and <= 64 && type.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-');
}
