using Platform.Files.Data;

namespace Platform.Files.Storage;

/// <summary>A stored file's content as a seekable stream, from wherever its row says it is.</summary>
public sealed class FileContent(FileDataSources sources, FilesMetrics metrics, ContentDirectory? directory = null)
{
    /// <summary>The content, as a seekable stream the caller disposes.</summary>
    public Stream Open(StoredFile file)
    {
        if (file.Store == ContentStore.Postgres)
        {
            return new StoredContentStream(sources.Content, file, metrics);
        }
        if (directory is null)
        {
            throw new InvalidOperationException(
                $"File {file.Id} is stored in the content directory, and Files:ContentDirectory is not set: it must stay set (and mounted) while files stored there exist.");
        }
        return new MeteredReadStream(directory.OpenRead(file.Id), metrics);
    }
}
