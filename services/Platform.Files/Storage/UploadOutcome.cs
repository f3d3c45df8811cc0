using Platform.Files.Data;

namespace Platform.Files.Storage;

/// <summary>How an upload ended; only <see cref="Stored"/> left anything behind.</summary>
public abstract record UploadOutcome
{
    public sealed record Stored(StoredFile File) : UploadOutcome;

    public sealed record TooLarge : UploadOutcome;

    public sealed record OverQuota : UploadOutcome;

    public sealed record OwnerDeleted : UploadOutcome;

    /// <summary>Every upload slot stayed taken for the whole wait (<see cref="UploadSlots"/>); the body was not read.</summary>
    public sealed record Busy : UploadOutcome;

    /// <summary>The user already had <paramref name="Limit"/> uploads running or waiting on this instance; the body was not read.</summary>
    public sealed record UserAtLimit(int Limit) : UploadOutcome;
}
