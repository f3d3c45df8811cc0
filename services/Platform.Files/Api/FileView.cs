using Platform.Files.Data;

namespace Platform.Files.Api;

/// <summary>A file as the API shows it; <c>sha256</c> is lower-case hex, also the content's ETag.</summary>
public sealed record FileView(Guid Id, string Name, long Size, string Sha256, string ContentType, DateTimeOffset CreatedAt)
{
    public static FileView Of(StoredFile file) => new(file.Id, file.Name, file.Size, file.Sha256Hex, file.ContentType, file.CreatedAt);
}

public sealed record FilePage(IReadOnlyList<FileView> Items, string? NextCursor);
