using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Contracts.Keys;

/// <summary>
/// The keyset contract (docs/architecture.md §4.1, §4.2): the operator writes it, auth reads it. A key is "next"
/// before <see cref="KeysetKey.ActivatesAt"/>, active until a later key activates, then retiring until
/// <see cref="KeysetKey.ExpiresAt"/>.
/// </summary>
public sealed record Keyset(long Version, IReadOnlyList<KeysetKey> Keys)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>
    /// The key that signs at <paramref name="now"/>: the last one activated (by activatesAt, then kid) that has not
    /// expired. Auth signs with it and the operator plans around it, so both must decide it alike.
    /// </summary>
    public static KeysetKey? ActiveAt(IEnumerable<KeysetKey> keys, DateTimeOffset now) =>
        keys.Where(k => k.ActivatesAt <= now && !k.ExpiredAt(now)).OrderBy(k => k.ActivatesAt).ThenBy(k => k.Kid, StringComparer.Ordinal).LastOrDefault();
}

public sealed record KeysetKey(
    string Kid,
    string Alg,
    DateTimeOffset CreatedAt,
    DateTimeOffset ActivatesAt,
    DateTimeOffset? RetiresAt,
    DateTimeOffset? ExpiresAt,
    JsonElement PrivateJwk)
{
    public bool ExpiredAt(DateTimeOffset now) => ExpiresAt <= now;
}
