using System.Diagnostics.CodeAnalysis;
using Npgsql;
using Platform.Contracts.Events;

namespace Platform.Messaging;

/// <summary>
/// What a service does with an event it consumes. It runs inside the transaction that records the event as
/// processed, so its writes and that record commit together: an event is handled once even when it is
/// delivered twice. Throwing rolls both back and the event is retried, then dead-lettered.
/// A handler is resolved from a fresh DI scope for each event. With EF Core, join the given transaction:
/// <c>db.Database.SetDbConnection(connection); await db.Database.UseTransactionAsync(transaction)</c>.
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "It handles integration events; the name is the one the platform's design and eShop use.")]
public interface IIntegrationEventHandler
{
    Task HandleAsync(IntegrationEvent integrationEvent, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken);
}
