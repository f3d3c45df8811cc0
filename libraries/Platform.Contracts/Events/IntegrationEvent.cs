using System.Text.Json;

namespace Platform.Contracts.Events;

/// <summary>
/// The envelope every event travels in (docs/architecture.md §6.2):
/// <c>{id, type, occurredAt, source, correlationId, data}</c>. Consumers deduplicate on <see cref="Id"/>;
/// <see cref="Type"/> is also the routing key.
/// </summary>
public sealed record IntegrationEvent(Guid Id, string Type, DateTimeOffset OccurredAt, string Source, string? CorrelationId, JsonElement Data)
{
    /// <summary>
    /// A new event carrying <paramref name="data"/> serialised as camelCase JSON (the web defaults: the strict
    /// reading of envelopes is not imposed on the producers' own data types). The time is cut to whole
    /// microseconds because that is what PostgreSQL keeps, so the event a consumer receives equals this one.
    /// </summary>
    public static IntegrationEvent Create<TData>(string type, string source, TData data, string? correlationId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        var now = DateTimeOffset.UtcNow;
        return new IntegrationEvent(
            Guid.CreateVersion7(now),
            type,
            now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond)),
            source,
            correlationId,
            JsonSerializer.SerializeToElement(data, JsonSerializerOptions.Web));
    }

    /// <summary>Data is compared by value: the same JSON read back from the database or the broker is the same event.</summary>
    public bool Equals(IntegrationEvent? other) =>
        other is not null
        && Id == other.Id
        && Type == other.Type
        && OccurredAt == other.OccurredAt
        && Source == other.Source
        && CorrelationId == other.CorrelationId
        && JsonElement.DeepEquals(Data, other.Data);

    public override int GetHashCode() => Id.GetHashCode();
}
