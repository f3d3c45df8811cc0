using Npgsql;
using Platform.Data;

namespace Platform.Files.Data;

/// <summary>
/// Where the files service's queries go. Metadata reads go through the platform's read router (replica unless
/// the owner wrote within its read-your-writes window, the replica lags, or fails). Writes go to the primary, and
/// so do content downloads: a download is many short chunk queries over seconds or minutes, while the router
/// decides per read; the primary always holds every committed chunk.
/// </summary>
public sealed class FileDataSources(NpgsqlDataSource primary, ReadRouter reads)
{
    /// <summary>Uploads, deletions and purges.</summary>
    public NpgsqlDataSource Writes => primary;

    /// <summary>The chunks of a file being downloaded.</summary>
    public NpgsqlDataSource Content => primary;

    /// <summary>A metadata read of <paramref name="owner"/>'s files, on the server the router picks.</summary>
    public Task<T> ReadAsync<T>(Guid owner, Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken) =>
        reads.ReadAsync(Subject(owner), read, cancellationToken);

    /// <summary>After a committed write, so that the owner's next reads see it.</summary>
    public Task NoteWriteAsync(Guid owner) => reads.NoteWriteAsync(Subject(owner));

    private static string Subject(Guid owner) => owner.ToString("N");
}
