-- Content may live outside PostgreSQL, as one file per upload in a directory every files pod mounts
-- (Files:ContentDirectory). content_store says where a file's bytes are; files stored before stay in file_chunks.
-- content_removals lists directory content to unlink: a lease taken before an upload writes its file (removed in the
-- upload's own commit, so only a crashed upload's file is left to it) and, through the trigger, the content of every
-- deleted file row, whichever statement deleted it (a user's delete, the purge of a deleted account).
ALTER TABLE files ADD COLUMN content_store text NOT NULL DEFAULT 'postgres'
    CONSTRAINT files_content_store CHECK (content_store IN ('postgres', 'directory'));

CREATE TABLE content_removals (
    file_id uuid PRIMARY KEY,
    kind text NOT NULL CONSTRAINT content_removals_kind CHECK (kind IN ('upload', 'deleted')),
    due_at timestamptz NOT NULL
);
CREATE INDEX content_removals_by_due ON content_removals (due_at);

CREATE FUNCTION files_queue_content_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_removals (file_id, kind, due_at) VALUES (OLD.id, 'deleted', now())
        ON CONFLICT (file_id) DO UPDATE SET kind = 'deleted', due_at = least(content_removals.due_at, excluded.due_at);
    RETURN NULL;
END
$$;

CREATE TRIGGER files_content_removal AFTER DELETE ON files
    FOR EACH ROW WHEN (OLD.content_store = 'directory') EXECUTE FUNCTION files_queue_content_removal();
