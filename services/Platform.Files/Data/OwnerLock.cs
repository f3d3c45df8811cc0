using Npgsql;

namespace Platform.Files.Data;

/// <summary>
/// A transaction-scoped advisory lock per owner. Uploads take it only for their final quota check and commit, and
/// the purge of a deleted user takes it too, so two uploads cannot both squeeze under the quota and no upload can
/// commit for a user whose purge has already run.
/// </summary>
internal static class OwnerLock
{
    /// <summary>The first key of the two-key advisory lock space, reserved for files' owners.</summary>
    private const int LockClass = 0x0F11E5;

    public static async Task TakeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid owner, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockClass}, hashtext($1::text))", connection, transaction);
        command.Parameters.Add(new() { Value = owner });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
