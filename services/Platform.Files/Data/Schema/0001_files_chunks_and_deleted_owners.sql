-- Content lives in file_chunks, one row per fixed-size piece, so neither writing nor reading ever needs a whole file
-- in memory. STORAGE EXTERNAL keeps chunks out of line but uncompressed: most uploads are already compressed, and it
-- lets substring fetch only the slices a range asks for. deleted_owners is indexed by age for its retention.
-- IF NOT EXISTS: databases migrated before schema_history existed already hold these objects.
CREATE TABLE IF NOT EXISTS files (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 bytea NOT NULL,
    chunk_size integer NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_owner ON files (owner, id);

CREATE TABLE IF NOT EXISTS file_chunks (
    file_id uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    index integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (file_id, index)
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE IF NOT EXISTS deleted_owners (
    owner uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS deleted_owners_by_age ON deleted_owners (deleted_at);
