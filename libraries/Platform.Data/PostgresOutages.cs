using Npgsql;
using Platform.Hosting.Problems;

namespace Platform.Data;

/// <summary>
/// PostgreSQL's outages, for the exception handler's 503s (anywhere in the exception chain: EF Core wraps Npgsql's
/// exceptions in its own). Registered by <see cref="PostgresExtensions.AddPlatformPostgres"/>.
/// </summary>
internal sealed class PostgresOutages : IOutageClassifier
{
    private static readonly Outage Unreachable = new("The service cannot reach its database right now.");

    // Found by the disk-full drill (Chaos/DiskFullTests): the write is refused, the server stays up and takes it again
    // once space returns — an outage of the primary's disk, not a bug of the request.
    private static readonly Outage Full = new("The service's database cannot take writes right now.", "Its storage is full.");

    public Outage? Classify(Exception exception)
    {
        // Unreachable first: a chain that holds both is a server going away.
        return Any(exception, IsUnreachable) ? Unreachable : Any(exception, IsFull) ? Full : null;
    }

    /// <summary>Unreachable, shutting down or starting up: the request may well succeed in a moment.</summary>
    private static bool IsUnreachable(Exception e) =>
        e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow }
        || e is NpgsqlException { IsTransient: true } and not PostgresException;

    private static bool IsFull(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.DiskFull };

    private static bool Any(Exception exception, Func<Exception, bool> test)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (test(e))
            {
                return true;
            }
        }
        return false;
    }
}
