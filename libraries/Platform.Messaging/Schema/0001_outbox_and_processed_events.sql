-- The outbox and consumer idempotency, in every producing or consuming service's own database.
-- position orders dispatch; next_attempt_at holds a failed row back. The statement trigger notifies once per
-- inserting statement, and PostgreSQL delivers (and de-duplicates) notifications at commit, so the dispatcher wakes
-- exactly when new rows become visible, and never for a rollback. The channel is MessagingSchema.NotificationChannel.
-- processed_events_by_age lets retention find old event ids without reading the table.
-- IF NOT EXISTS: databases migrated before schema_history existed already hold these objects.
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
    PERFORM pg_notify('outbox', '');
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
