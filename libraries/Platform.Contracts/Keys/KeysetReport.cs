using System.Text.Json.Serialization;

namespace Platform.Contracts.Keys;

/// <summary>
/// Auth's <c>GET /internal/keyset</c> (docs/architecture.md §4.3): the keyset this pod has loaded. Auth writes it;
/// the operator's activation evidence (§4.6) and its <c>keys rotate --auth</c> read it.
/// </summary>
/// <param name="Kids">Next, active and retiring keys; absent from an auth older than the report's kids, when readers compare <paramref name="Version"/>.</param>
public sealed record KeysetReport(
    [property: JsonRequired] long Version,
    DateTimeOffset LoadedAt,
    string? ActiveKid,
    IReadOnlyList<string>? Kids,
    string Pod);
