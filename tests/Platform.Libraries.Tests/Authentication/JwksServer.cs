using System.Collections.Immutable;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using Platform.Testing;

namespace Platform.Libraries.Tests.Authentication;

/// <summary>
/// The auth service's <c>/.well-known/jwks.json</c>, played by a real Kestrel server: serves the published
/// keys with <c>Cache-Control: max-age</c>, counts every fetch, and can be taken down.
/// </summary>
internal sealed class JwksServer : IAsyncDisposable
{
    public const string Path = "/.well-known/jwks.json";

    private ImmutableList<TestSigningKey> published;
    private TestApp app = null!;
    private int fetches;

    private JwksServer(IEnumerable<TestSigningKey> keys) => published = [.. keys];

    public int Fetches => Volatile.Read(ref fetches);

    /// <summary>While true every fetch gets a 503.</summary>
    public bool Down { get; set; }

    public int MaxAgeSeconds { get; set; } = 300;

    public Uri JwksUri => new(app.Client.BaseAddress!, Path);

    public static async Task<JwksServer> StartAsync(params TestSigningKey[] keys)
    {
        var server = new JwksServer(keys);
        server.app = await TestApp.StartAsync(map: web => web.MapGet(Path, server.Serve));
        return server;
    }

    public void Publish(TestSigningKey key) => ImmutableInterlocked.Update(ref published, keys => keys.Add(key));

    public ValueTask DisposeAsync() => app.DisposeAsync();

    private IResult Serve(HttpContext context)
    {
        Interlocked.Increment(ref fetches);
        if (Down)
        {
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
        context.Response.Headers.CacheControl = $"public, max-age={MaxAgeSeconds}";
        return Results.Json(new { keys = published.Select(key => key.PublicJwk()) });
    }
}
