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
}
