namespace Platform.Files.Data;

/// <summary>
/// A file's metadata row. Its content is <see cref="Size"/> bytes, in <c>file_chunks</c> rows of <see cref="ChunkSize"/>
/// or, when <see cref="Store"/> says so, one file in the content directory.
/// </summary>
public sealed record StoredFile(Guid Id, Guid Owner, string Name, string ContentType, long Size, byte[] Sha256, int ChunkSize, DateTimeOffset CreatedAt, ContentStore Store = ContentStore.Postgres)
{
    public string Sha256Hex => Convert.ToHexStringLower(Sha256);
}

/// <summary>Where a file's bytes are: the <c>content_store</c> column.</summary>
public enum ContentStore
{
    Postgres,
    Directory,
}
