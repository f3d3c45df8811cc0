using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Platform.Api.OpenApi;
using Platform.Contracts.Keys;

namespace Platform.Auth.Keys;

public static class KeysApi
{
    private static readonly string[] SubjectTypes = ["public"];
    private static readonly string[] ResponseTypes = ["token"];
    private static readonly string[] Claims = ["iss", "aud", "sub", "sid", "jti", "iat", "nbf", "exp", "email"];

    /// <summary>
    /// The public keys validators need (next, active and retiring), issuer metadata, and — not routed by the
    /// gateway — the keyset version this pod has loaded, which the operator reads before it activates a key.
    /// </summary>
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/.well-known/jwks.json", (KeysetProvider keys, IOptions<KeysOptions> options, TimeProvider clock, HttpContext http) =>
        {
            http.Response.Headers.CacheControl = $"public, max-age={options.Value.JwksMaxAgeSeconds}";
            var published = keys.Current.PublishedAt(clock.GetUtcNow()).Select(k => k.PublicJwk).ToList();
            return TypedResults.Json(new JsonWebKeySetView(published.Select(PublicJwkJson)));
        }).WithTags("keys").WithName("GetJwks").WithSummary("The public signing keys (next, active and retiring)")
            .Produces<JsonWebKeySetView>()
            .WithResponseHeader(StatusCodes.Status200OK, "Cache-Control", "public, max-age=<seconds>");

        endpoints.MapGet("/.well-known/openid-configuration", (IOptions<TokenOptions> tokens, KeysetProvider keys, TimeProvider clock) =>
        {
            var issuer = tokens.Value.Issuer.TrimEnd('/');
            return TypedResults.Json(new Dictionary<string, object>
            {
                ["issuer"] = tokens.Value.Issuer,
                ["jwks_uri"] = issuer + "/.well-known/jwks.json",
                ["id_token_signing_alg_values_supported"] = keys.Current.PublishedAt(clock.GetUtcNow()).Select(k => k.Key.Alg).Distinct().ToArray(),
                ["subject_types_supported"] = SubjectTypes,
                ["response_types_supported"] = ResponseTypes,
                ["claims_supported"] = Claims,
            });
        }).WithTags("keys").WithName("GetOpenIdConfiguration").WithSummary("Issuer metadata")
            .Produces<Dictionary<string, System.Text.Json.JsonElement>>();

        endpoints.MapGet("/internal/keyset", (KeysetProvider keys, TimeProvider clock) =>
        {
            var current = keys.Current;
            var now = clock.GetUtcNow();
            return TypedResults.Ok(new KeysetReport(current.Version, current.LoadedAt, current.ActiveAt(now)?.Kid,
                current.PublishedAt(now).Select(k => k.Kid).ToList(), Environment.MachineName));
        }).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>A JSON Web Key Set (RFC 7517): each key's members as strings.</summary>
    public sealed record JsonWebKeySetView(IEnumerable<Dictionary<string, string>> Keys);

    private static Dictionary<string, string> PublicJwkJson(JsonWebKey key)
    {
        var json = new Dictionary<string, string> { ["kty"] = key.Kty, ["kid"] = key.Kid, ["alg"] = key.Alg, ["use"] = key.Use };
        if (key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve)
        {
            json["crv"] = key.Crv;
            json["x"] = key.X;
            json["y"] = key.Y;
        }
        else
        {
            json["n"] = key.N;
            json["e"] = key.E;
        }
        return json;
    }
}
