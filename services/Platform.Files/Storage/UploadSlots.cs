using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Files.Data;
using Platform.Hosting;

namespace Platform.Files.Storage;

/// <summary>
/// How many uploads this instance stores at once. An upload into PostgreSQL holds a connection of the primary's pool
/// for as long as its client takes to send the body — minutes for a large file on a slow link — so without a bound a
/// few slow uploads held every connection and the instance's downloads and deletions failed 503 for want of one.
/// There the bound is <see cref="FilesOptions.MaxConcurrentUploads"/> (default 4), and always below the pool's size:
/// one connection at least is left to everything else. An upload into the content directory holds no connection
/// while it streams, and its bound (default 64) only caps the buffers. An upload past the bound waits up to
/// <see cref="FilesOptions.MaxUploadWaitSeconds"/> for a slot, with its body unread, then is refused. A user has at
/// most <see cref="FilesOptions.MaxConcurrentUploadsPerUser"/> of the uploads running or waiting, so no one user's
/// uploads take every slot.
/// </summary>
public sealed partial class UploadSlots : IDisposable
{
    /// <summary>Waiting uploads hold a socket and nothing else; the wait's time bound, not this, is what limits them.</summary>
    private const int QueueLimit = 1024;

    private readonly SlotGate gate;
    private readonly UserShares shares;

    /// <summary>Uploads at once into PostgreSQL when <see cref="FilesOptions.MaxConcurrentUploads"/> is not set.</summary>
    public const int DefaultIntoPostgres = 4;

    /// <summary>Uploads at once into the content directory when it is not set.</summary>
    public const int DefaultIntoDirectory = 64;

    public UploadSlots(IOptions<FilesOptions> options, FileDataSources sources, ILogger<UploadSlots> logger, ContentDirectory? directory = null)
    {
        var settings = options.Value;
        var limit = settings.MaxConcurrentUploads ?? (directory is null ? DefaultIntoPostgres : DefaultIntoDirectory);
        if (directory is null)
        {
            var pool = new NpgsqlConnectionStringBuilder(sources.Writes.ConnectionString).MaxPoolSize;
            var lowered = Math.Max(1, Math.Min(limit, pool - 1));
            if (lowered < limit)
            {
                LogBoundLowered(logger, limit, pool, lowered);
            }
            limit = lowered;
        }
        gate = new SlotGate(limit, QueueLimit, TimeSpan.FromSeconds(settings.MaxUploadWaitSeconds));
        shares = new UserShares(settings.MaxConcurrentUploadsPerUser ?? Math.Min(limit, Math.Max(2, limit / 4)));
    }

    /// <summary>Uploads one user may have running or waiting on this instance.</summary>
    public int PerUser => shares.PerUser;

    /// <summary>
    /// A slot for one of <paramref name="owner"/>'s uploads: refused at once when the user already has
    /// <see cref="PerUser"/> running or waiting here, else at once when one is free, else after at most the wait bound.
    /// </summary>
    public async ValueTask<UploadSlot> AcquireAsync(Guid owner, CancellationToken cancellationToken)
    {
        if (!shares.TryTake(owner))
        {
            return UploadSlot.UserAtLimit;
        }
        try
        {
            var lease = await gate.AcquireAsync(cancellationToken);
            if (!lease.IsAcquired)
            {
                lease.Dispose();
                shares.Give(owner);
                return UploadSlot.Busy;
            }
            return new UploadSlot(lease, () => shares.Give(owner));
        }
        catch
        {
            shares.Give(owner);
            throw;
        }
    }

    public void Dispose() => gate.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Files:MaxConcurrentUploads {Configured} lowered to {Limit}: each upload holds one of the primary's {Pool} pooled connections, and one is kept for downloads and deletions where the pool has more than one")]
    private static partial void LogBoundLowered(ILogger logger, int configured, int pool, int limit);
}

/// <summary>An upload's place in <see cref="UploadSlots"/>, or why it has none; disposing it gives the place back.</summary>
public sealed class UploadSlot : IDisposable
{
    public static readonly UploadSlot Busy = new(null, null);

    public static readonly UploadSlot UserAtLimit = new(null, null);

    private readonly RateLimitLease? lease;
    private Action? release;

    internal UploadSlot(RateLimitLease? lease, Action? release)
    {
        this.lease = lease;
        this.release = release;
    }

    public bool IsAcquired => lease is not null;

    public void Dispose()
    {
        lease?.Dispose();
        Interlocked.Exchange(ref release, null)?.Invoke();
    }
}
