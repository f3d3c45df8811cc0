extern alias OperatorProject;

using OperatorProject::Platform.Operator.Keys;
using Platform.Contracts.Keys;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>Keyset directories for tests, written with the operator's own key factory and file writer.</summary>
public static class TestKeysets
{
    public static async Task<string> CreateAsync(params KeysetKey[] keys)
    {
        var directory = ScratchDirectories.Create("keys");
        var now = DateTimeOffset.UtcNow;
        await KeysetFile.WriteAsync(directory, new Keyset(1, keys.Length > 0 ? keys : [SigningKeyFactory.CreateEs256(now, now.AddMinutes(-1))]), CancellationToken.None);
        return directory;
    }

    public static Task WriteAsync(string directory, long version, params KeysetKey[] keys) =>
        KeysetFile.WriteAsync(directory, new Keyset(version, keys), CancellationToken.None);
}
