using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.ServiceDefaults.Messaging;

/// <summary>
/// The tables of the outbox and of consumer idempotency, in the service's own database. Plain SQL that can run
/// any number of times, so it is safe in every service's <c>migrate</c> command whatever else the service uses.
/// </summary>
public sealed class MessagingSchema : IDatabaseMigration
{
    public const string NotificationChannel = "outbox";

    /// <summary>
    /// <c>position</c> orders dispatch; <c>next_attempt_at</c> holds a failed row back. The statement trigger
    /// notifies once per inserting statement, and PostgreSQL delivers (and de-duplicates) notifications at
    /// commit, so the dispatcher wakes exactly when new rows become visible, and never for a rollback.
    /// <c>processed_events_by_age</c> lets retention find old event ids without reading the table.
    /// </summary>
    private const string Sql = $"""
        CREATE TABLE IF NOT EXISTS outbox (
            id uuid PRIMARY KEY,
            type text NOT NULL,
            source text NOT NULL,
            correlation_id text NULL,
            occurred_at timestamptz NOT NULL,
            data jsonb NOT NULL,
            position bigint GENERATED ALWAYS AS IDENTITY,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error text NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS outbox_position ON outbox (position);

        CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{NotificationChannel}', '');
            RETURN NULL;
        END
        $$;
        CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

        CREATE TABLE IF NOT EXISTS processed_events (
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        );
        CREATE INDEX IF NOT EXISTS processed_events_by_age ON processed_events (processed_at);
        """;

    public async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
