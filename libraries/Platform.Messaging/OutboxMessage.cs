using Platform.Contracts.Events;

namespace Platform.Messaging;

/// <summary>
/// A row of the outbox as EF Core writes it. Only the columns a producer sets are mapped; the dispatcher's
/// bookkeeping (position, attempts, next attempt, last error) takes the database defaults.
/// </summary>
public sealed class OutboxMessage
{
    public required Guid Id { get; init; }

    public required string Type { get; init; }

    public required string Source { get; init; }

    public string? CorrelationId { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The event's data as JSON text, stored as jsonb.</summary>
    public required string Data { get; init; }

    public static OutboxMessage From(IntegrationEvent integrationEvent)
    {
        ArgumentNullException.ThrowIfNull(integrationEvent);
        return new()
        {
            Id = integrationEvent.Id,
            Type = integrationEvent.Type,
            Source = integrationEvent.Source,
            CorrelationId = integrationEvent.CorrelationId,
            OccurredAt = integrationEvent.OccurredAt,
            Data = integrationEvent.Data.GetRawText(),
        };
    }
}
