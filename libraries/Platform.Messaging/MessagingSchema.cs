using Platform.Data;

namespace Platform.Messaging;

/// <summary>
/// The tables of the outbox and of consumer idempotency (<c>Platform.Messaging/Schema/*.sql</c>), a schema component of
/// every service that produces or consumes events, with a version history of its own beside the service's tables.
/// </summary>
public static class MessagingSchema
{
    /// <summary>The channel the outbox trigger notifies on (its script names it literally; a test holds them together).</summary>
    public const string NotificationChannel = "outbox";

    public static SchemaComponent Component { get; } = SchemaComponent.FromResources("messaging", typeof(MessagingSchema).Assembly);
}
