using Platform.Contracts.Keys;

namespace Platform.Auth.Keys;

/// <summary>
/// An immutable snapshot of the keyset file. Which key signs is decided by time, not by when the file was
/// loaded, so every auth replica switches at the same instant without talking to the others.
/// </summary>
public sealed class LoadedKeyset(long version, IReadOnlyList<SigningKeyMaterial> keys, DateTimeOffset loadedAt)
{
    public static readonly LoadedKeyset Empty = new(0, [], DateTimeOffset.MinValue);

    public long Version { get; } = version;

    public DateTimeOffset LoadedAt { get; } = loadedAt;

    /// <summary>Ordered by activation time.</summary>
    public IReadOnlyList<SigningKeyMaterial> Keys { get; } = keys.OrderBy(k => k.Key.ActivatesAt).ThenBy(k => k.Kid, StringComparer.Ordinal).ToList();

    /// <summary>The key that signs at <paramref name="now"/>: the last one activated that has not expired.</summary>
    public SigningKeyMaterial? ActiveAt(DateTimeOffset now) =>
        Keyset.ActiveAt(Keys.Select(k => k.Key), now) is { } active ? Keys.Last(k => ReferenceEquals(k.Key, active)) : null;

    /// <summary>Every key a validator may meet: next, active and retiring.</summary>
    public IEnumerable<SigningKeyMaterial> PublishedAt(DateTimeOffset now) => Keys.Where(k => !k.Key.ExpiredAt(now));
}
