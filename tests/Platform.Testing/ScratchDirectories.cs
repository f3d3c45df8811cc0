namespace Platform.Testing;

/// <summary>
/// Directories a test process writes for its hosts (keysets, copies of a chart), all under one root per process that
/// is removed when the process exits: hosts that share a directory need not agree which of them deletes it, and a
/// thousand test runs leave nothing behind in the temporary directory.
/// </summary>
public static class ScratchDirectories
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var root = Directory.CreateTempSubdirectory($"platform-tests-{Environment.ProcessId}-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Something still writes there while the process ends: the directory stays, nothing else is lost.
            }
        };
        return root;
    });

    /// <summary>A new, empty directory whose name starts with <paramref name="name"/>.</summary>
    public static string Create(string name) => Directory.CreateDirectory(Path.Combine(Root.Value, $"{name}-{Guid.NewGuid():N}")).FullName;
}
