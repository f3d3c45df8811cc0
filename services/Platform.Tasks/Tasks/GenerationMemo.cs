using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Data;

namespace Platform.Tasks.Tasks;

/// <summary>
/// This process's short memory of users' cache generations, so a user who reads often gets a cached answer with no
/// database round trip at all (the generation lookup was most of a cached read's cost: `make bench`, scenario 2).
/// PostgreSQL stays the truth. An entry holds a generation read from the database, counts its age from before that
/// read, and is used only while it is younger than <see cref="TasksOptions.GenerationMemoSeconds"/>, the user has
/// not written within the read-your-writes window (every instance marks a write in Redis before it answers; while
/// Redis cannot tell, no entry is used: <see cref="TaskReads"/> asks, once per request) and — for an entry read from
/// the replica — the replica is within its lag bound. So a write answered before an entry is used is either still
/// inside the window, and the entry is not used, or older than the window — which is longer than the entry's age plus
/// the replica's lag bound and sampling period, so the generation read into the entry already counted it. An entry
/// read from the primary counted every write answered before its read began, whatever the replica does since: it
/// stays usable while the replica lags, is stopped, or is not configured at all, when every read goes to the primary
/// and the lookup it saves costs the most. No stale answer survives a write; this only saves the lookup between writes.
/// </summary>
public sealed class GenerationMemo
{
    /// <summary>Enough for every active user of a pod; past it the memory starts again rather than grow.</summary>
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<Guid, Entry> entries = new();
    private readonly ReplicaLagMonitor replica;
    private readonly TimeProvider time;
    private readonly long lifetime;

    public GenerationMemo(ReplicaLagMonitor replica, TimeProvider time, IOptions<TasksOptions> options, IOptions<ReadRoutingOptions> routing)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(routing);
        this.replica = replica;
        this.time = time;
        // Whatever is configured, an entry never outlives what the read-your-writes window leaves after the
        // replica's lag bound and sampling period; when nothing is left, the memory is off.
        var seconds = Math.Min(options.Value.GenerationMemoSeconds,
            routing.Value.ReadYourWritesSeconds - routing.Value.MaxReplicaLagSeconds - routing.Value.LagSampleSeconds);
        lifetime = seconds > 0 ? (long)(seconds * time.TimestampFrequency) : 0;
    }

    /// <summary>A timestamp to take before reading a generation, for <see cref="Remember"/>.</summary>
    public long Now() => time.GetTimestamp();

    /// <summary>
    /// The user's remembered generation while it is young enough and, if the replica answered it, the replica within its
    /// bound; usable only if the user has not written recently either, which the caller's read plan asks.
    /// </summary>
    public long? Recall(Guid userId) =>
        lifetime == 0 || !entries.TryGetValue(userId, out var entry) || time.GetTimestamp() - entry.ReadAt >= lifetime
            || (entry.Source == ReadTarget.Replica && !replica.Usable)
            ? null
            : entry.Generation;

    /// <summary>Remembers a generation read from <paramref name="source"/>; <paramref name="readAt"/> was taken before the read.</summary>
    public void Remember(Guid userId, long generation, long readAt, ReadTarget source)
    {
        if (lifetime == 0)
        {
            return;
        }
        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }
        // Generations only grow: a lower one comes from a replica that lags, and the higher one is the newer news. A
        // higher generation holds every write a lower one does, so it may take the later read's time — with that
        // read's source, which says how far before its time that read could lag.
        var read = new Entry(generation, readAt, source);
        entries.AddOrUpdate(userId, read,
            (_, known) => generation < known.Generation ? known : readAt >= known.ReadAt ? read : known with { Generation = generation });
    }

    /// <summary>After this instance's own write: its next read asks the database (the read-your-writes mark would too).</summary>
    public void Forget(Guid userId) => entries.TryRemove(userId, out _);

    private readonly record struct Entry(long Generation, long ReadAt, ReadTarget Source);
}
