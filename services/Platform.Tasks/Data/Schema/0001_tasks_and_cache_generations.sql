-- Tasks, and each user's cache generation: bumped in every write transaction, it is part of every cache key, so a
-- cached value is found only while it is still current, even after Redis lost or restored older keys.
-- IF NOT EXISTS: databases migrated before schema_history existed already hold these objects.
CREATE TABLE IF NOT EXISTS tasks (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (status IN ('todo', 'in_progress', 'done')),
    due_at timestamptz NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS tasks_by_user ON tasks (user_id, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_user_status ON tasks (user_id, status, id DESC);

CREATE TABLE IF NOT EXISTS cache_generations (
    user_id uuid PRIMARY KEY,
    generation bigint NOT NULL
);
