using Platform.Operator.Keys;
using Platform.ServiceDefaults.Keys;

namespace Platform.Operator.Cli;

/// <summary>
/// <c>keys init --dir DIR</c>: creates the local keyset with one active ES256 key unless one exists.
/// The rotation commands arrive with the rotation state machine (the operator issue).
/// </summary>
public static class KeysCommand
{
    public const string Usage = "usage: Platform.Operator keys init --dir DIR";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (args is not ["init", "--dir", var directory] || string.IsNullOrWhiteSpace(directory))
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }
        var existing = await KeysetFile.ReadAsync(directory, cancellationToken);
        if (existing is not null)
        {
            await output.WriteLineAsync($"keyset {KeysetFile.PathIn(directory)} exists (version {existing.Version}, {existing.Keys.Count} keys); left as is");
            return 0;
        }
        var now = clock.GetUtcNow();
        var key = SigningKeyFactory.CreateEs256(now, activatesAt: now);
        await KeysetFile.WriteAsync(directory, new Keyset(Version: 1, [key]), cancellationToken);
        await output.WriteLineAsync($"keyset {KeysetFile.PathIn(directory)} created with active key {key.Kid}");
        return 0;
    }
}
