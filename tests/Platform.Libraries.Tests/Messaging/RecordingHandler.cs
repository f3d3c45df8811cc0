using System.Collections.Concurrent;
using Npgsql;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>
/// A handler with a side effect that can be counted: a row in <c>handled</c>, written in the consumer's transaction.
/// An event whose data says <c>{"failAttempts": n}</c> makes its first n attempts throw after writing that row.
/// </summary>
public sealed class RecordingHandler(HandlerProbe probe) : IIntegrationEventHandler
{
    public const string CreateTableSql = "CREATE TABLE handled (event_id uuid NOT NULL, handled_at timestamptz NOT NULL DEFAULT now())";

    public async Task HandleAsync(IntegrationEvent integrationEvent, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var attempt = probe.CountAttempt(integrationEvent.Id);
        await using var command = new NpgsqlCommand("INSERT INTO handled (event_id) VALUES ($1)", connection, transaction)
        {
            Parameters = { new() { Value = integrationEvent.Id } },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (integrationEvent.Data.TryGetProperty("failAttempts", out var failAttempts) && attempt <= failAttempts.GetInt32())
        {
            throw new InvalidOperationException($"The handler fails on attempt {attempt} of event {integrationEvent.Id}, as the test asked.");
        }
    }
}

/// <summary>Counts handler invocations per event, including those whose transaction rolled back.</summary>
public sealed class HandlerProbe
{
    private readonly ConcurrentDictionary<Guid, int> attempts = new();

    public int TotalAttempts => attempts.Values.Sum();

    public int CountAttempt(Guid eventId) => attempts.AddOrUpdate(eventId, 1, (_, count) => count + 1);

    public int AttemptsOf(Guid eventId) => attempts.GetValueOrDefault(eventId);
}
