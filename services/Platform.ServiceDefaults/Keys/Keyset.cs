using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.ServiceDefaults.Keys;

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
}

public sealed record KeysetKey(
    string Kid,
    string Alg,
    DateTimeOffset CreatedAt,
    DateTimeOffset ActivatesAt,
    DateTimeOffset? RetiresAt,
    DateTimeOffset? ExpiresAt,
    JsonElement PrivateJwk);
