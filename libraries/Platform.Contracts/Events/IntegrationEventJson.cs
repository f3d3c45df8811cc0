using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Platform.Contracts.Events;

/// <summary>
/// The wire form of <see cref="IntegrationEvent"/>: UTF-8 JSON with camelCase names. Reading is strict, because a
/// message that is not a whole envelope must be dead-lettered rather than half-handled; only the correlation id
/// may be missing.
/// </summary>
public static class IntegrationEventJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
    };

    public static byte[] Serialize(IntegrationEvent integrationEvent) =>
        JsonSerializer.SerializeToUtf8Bytes(integrationEvent, Options);

    /// <summary>Reads an envelope; false, with the reason, when the bytes are not JSON or miss or mistype a field.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out IntegrationEvent? integrationEvent, [NotNullWhen(false)] out string? error)
    {
        integrationEvent = null;
        try
        {
            var parsed = JsonSerializer.Deserialize<IntegrationEvent>(utf8Json, Options);
            error = parsed switch
            {
                null => "the message is JSON null",
                { Id: var id } when id == Guid.Empty => "id is missing or empty",
                { Type: var type } when string.IsNullOrWhiteSpace(type) => "type is missing or empty",
                { Source: var source } when string.IsNullOrWhiteSpace(source) => "source is missing or empty",
                { OccurredAt: var occurredAt } when occurredAt == default => "occurredAt is missing",
                { Data.ValueKind: JsonValueKind.Undefined } => "data is missing",
                _ => null,
            };
            integrationEvent = error is null ? parsed : null;
            return integrationEvent is not null;
        }
        catch (JsonException e)
        {
            error = e.Message;
            return false;
        }
    }
}
