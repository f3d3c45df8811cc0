using Npgsql;

namespace Platform.Files.Data;

/// <summary>
/// Where the files service's queries go: the seam the platform's primary/replica read router plugs into.
/// Until it exists every read goes to the primary, which is always correct, only not spread out.
/// </summary>
public sealed class FileDataSources(NpgsqlDataSource primary)
{
    /// <summary>Uploads, deletions and purges: always the primary.</summary>
    public NpgsqlDataSource Writes => primary;

    /// <summary>Reads of <paramref name="owner"/>'s files (metadata, lists and content).</summary>
    public NpgsqlDataSource ReadsFor(Guid owner)
    {
        _ = owner; // the read router will use it for read-your-writes after this user's uploads and deletions
        return primary;
    }
}
