using System.ComponentModel.DataAnnotations;

namespace Platform.Files;

/// <summary>Section "Files": how much one upload and one user may store.</summary>
public sealed class FilesOptions
{
    public const string Section = "Files";

    /// <summary>The largest file accepted; a larger upload is cut off at this size and answered 413.</summary>
    [Range(0, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>What all of a user's files together may take; an upload that would pass it is answered 413 quota-exceeded.</summary>
    [Range(0, long.MaxValue)]
    public long QuotaBytesPerUser { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Uploads this instance stores at once. Into PostgreSQL each holds a connection of the primary's pool while its
    /// client sends, so the default is 4 and the bound is lowered to the pool's size less one: downloads and deletions
    /// always find a connection. Into <see cref="ContentDirectory"/> an upload holds a socket and a 512,000-byte
    /// buffer, and a connection only for two short statements: the default is 64 (32 MB of buffers at most).
    /// </summary>
    [Range(1, 10_000)]
    public int? MaxConcurrentUploads { get; set; }

    /// <summary>
    /// Uploads one user may have running or waiting for a slot on this instance at once; one more is answered 429 at
    /// once. Without it one user's slow uploads could hold every slot and refuse everybody else's for as long as they
    /// send. Unset: a quarter of the slots, at least 2 (2 into PostgreSQL, 16 into the content directory).
    /// </summary>
    [Range(1, 10_000)]
    public int? MaxConcurrentUploadsPerUser { get; set; }

    /// <summary>How long an upload past that bound waits for a slot before it is answered 503 with Retry-After.</summary>
    [Range(0, 3600)]
    public int MaxUploadWaitSeconds { get; set; } = 10;

    /// <summary>
    /// Downloads this instance sends at once. A download holds no connection while its client receives, but while a
    /// segment is sent it holds that segment's buffer (up to 512 KiB from PostgreSQL), the file result's 64 KiB copy
    /// buffer and Kestrel's response buffer: about 640 KiB, so the default of 64 bounds them near 40 MiB of the pod's
    /// memory. Without a bound, clients that stop reading mid-file could take all of it.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConcurrentDownloads { get; set; } = 64;

    /// <summary>
    /// Downloads one user may have being sent or waiting on one instance at once, so one user's clients that read
    /// slowly cannot hold every slot. Unset: a quarter of the slots, at least 2 (16 of the default 64).
    /// </summary>
    [Range(1, 10_000)]
    public int? MaxConcurrentDownloadsPerUser { get; set; }

    /// <summary>How long a download past that bound waits for a slot before it is answered 503 with Retry-After.</summary>
    [Range(0, 3600)]
    public int MaxDownloadWaitSeconds { get; set; } = 10;

    /// <summary>
    /// Where new uploads' bytes go. Empty (the default): into PostgreSQL, replicated and backed up with the rest. An
    /// absolute path: one file per upload under it, on a volume every files pod mounts (ReadWriteMany). PostgreSQL then
    /// holds metadata only, and an upload costs a fraction of the CPU (docs/architecture.md §9.4). Files already
    /// stored stay where they are, so once set it must stay mounted while any file stored there exists.
    /// </summary>
    public string? ContentDirectory { get; set; }

    /// <summary>
    /// How long the content of a deleted file stays in the content directory: a download that began before the delete
    /// (on any pod) can finish. Its row is gone at once, so no one can start another.
    /// </summary>
    [Range(0, 86_400)]
    public int ContentRemovalDelaySeconds { get; set; } = 300;
}
