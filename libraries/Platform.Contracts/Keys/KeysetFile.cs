using System.Text.Json;

namespace Platform.Contracts.Keys;

/// <summary>
/// keyset.json on disk. Writes go to a temporary file that is renamed over the old one, so a reader
/// (auth watching the file) sees either the old or the new keyset, never half of one. Only the owner may
/// read it: it holds private keys.
/// </summary>
public static class KeysetFile
{
    public const string FileName = "keyset.json";

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    public static async Task<Keyset?> ReadAsync(string directory, CancellationToken cancellationToken)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
        {
            return null;
        }
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<Keyset>(stream, Keyset.JsonOptions, cancellationToken)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    public static async Task WriteAsync(string directory, Keyset keyset, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var temporary = Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var stream = new FileStream(temporary, options))
        {
            await JsonSerializer.SerializeAsync(stream, keyset, Keyset.JsonOptions, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, PathIn(directory), overwrite: true);
    }
}
