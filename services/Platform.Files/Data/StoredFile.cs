namespace Platform.Files.Data;

/// <summary>A file's metadata row; its content is <see cref="Size"/> bytes in pieces of <see cref="ChunkSize"/>.</summary>
public sealed record StoredFile(Guid Id, Guid Owner, string Name, string ContentType, long Size, byte[] Sha256, int ChunkSize, DateTimeOffset CreatedAt)
{
    public string Sha256Hex => Convert.ToHexStringLower(Sha256);
}
