using System.Runtime.InteropServices;

namespace Platform.Files.Storage;

/// <summary>
/// Files' bytes as plain files under <see cref="FilesOptions.ContentDirectory"/>, a directory every files pod mounts
/// (a ReadWriteMany volume). A file's path comes from its id alone: <c>objects/&lt;xx&gt;/&lt;yy&gt;/&lt;id&gt;</c>, where
/// xx and yy are the id's last hex digits — random in a version 7 id, where the first ones are its time — so no
/// directory holds more than a 65,536th of the files. Nothing refers to a file until its metadata row commits, so it
/// is written in place, without a temporary name; content_removals tracks the ones that never commit.
/// </summary>
public sealed partial class ContentDirectory
{
    private readonly string objects;

    public ContentDirectory(string root)
    {
        if (!Path.IsPathFullyQualified(root))
        {
            throw new ArgumentException($"Files:ContentDirectory must be an absolute path, not '{root}'.", nameof(root));
        }
        objects = Path.Combine(root, "objects");
        Directory.CreateDirectory(objects);
    }

    public string PathOf(Guid id)
    {
        var hex = id.ToString("N");
        return Path.Combine(objects, hex[30..], hex[28..30], hex);
    }

    /// <summary>A new, empty file for <paramref name="id"/>; written a buffer at a time by the caller, then <see cref="Seal"/>ed.</summary>
    public FileStream Create(Guid id)
    {
        var path = PathOf(id);
        var parent = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent);
            SyncDirectory(Path.GetDirectoryName(parent)!);
            SyncDirectory(objects);
        }
        return new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 });
    }

    /// <summary>
    /// The file's bytes and its name on stable storage before the metadata row that refers to it commits: a crash
    /// after the commit must not leave a row whose content is gone.
    /// </summary>
    public void Seal(FileStream file)
    {
        file.Flush(flushToDisk: true);
        SyncDirectory(Path.GetDirectoryName(file.Name)!);
    }

    /// <summary>
    /// The content to read. A file whose row exists is always there: a deleted file's content outlives its row by
    /// <see cref="FilesOptions.ContentRemovalDelaySeconds"/>. So one that is missing is lost — most likely this pod
    /// does not mount the volume the others write to — and that is an error, not a 404.
    /// </summary>
    public FileStream OpenRead(Guid id)
    {
        var path = PathOf(id);
        try
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.SequentialScan, BufferSize = 0,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException(
                $"The content of file {id} is missing from the content directory ({path}): does every files pod mount the same volume?", path, e);
        }
    }

    /// <summary>When the file was last written, or null when there is none.</summary>
    public DateTimeOffset? LastWritten(Guid id)
    {
        var info = new FileInfo(PathOf(id));
        return info.Exists ? info.LastWriteTimeUtc : null;
    }

    /// <summary>Removes the file; one already gone, or never written (its directory not even made), is no error.</summary>
    public void Delete(Guid id)
    {
        try
        {
            File.Delete(PathOf(id));
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// fsync of a directory, so that a name created in it survives a crash. .NET opens no directory as a file, hence
    /// the three libc calls; a filesystem that refuses (EINVAL: some network filesystems sync names themselves) is fine.
    /// </summary>
    private static void SyncDirectory(string path)
    {
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux)
        const int Invalid = 22; // EINVAL
        var descriptor = Open(path, ReadOnlyDirectory);
        if (descriptor < 0)
        {
            throw new IOException($"Cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() is var error && error != Invalid)
            {
                throw new IOException($"fsync of directory {path} failed (errno {error}).");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
