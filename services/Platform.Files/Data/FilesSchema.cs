using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Files.Data;

/// <summary>
/// The files schema, plain SQL that can run any number of times (the <c>migrate</c> command runs it). Content
/// lives in <c>file_chunks</c>, one row per fixed-size piece, so neither writing nor reading ever needs a whole
/// file in memory. <c>STORAGE EXTERNAL</c> keeps chunks out of line but uncompressed: most uploads are already
/// compressed, and it lets <c>substring</c> fetch only the slices a range asks for. <c>deleted_owners</c> is indexed
/// by age for its retention (<see cref="DeletedOwnersRetention"/>).
/// </summary>
public sealed class FilesSchema : IDatabaseMigration
{
    private const string Sql = """
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
        """;

    public async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
