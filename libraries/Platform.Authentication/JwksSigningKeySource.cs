using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>
/// The issuer's JWK set, fetched over HTTP and kept in memory for the <c>max-age</c> the issuer sends.
/// Requests never wait for a fetch while there are keys: stale keys are served while one fetch runs in the
/// background, and a failed fetch keeps the last good keys. Every fetch is shared by all callers that need it
/// (single flight). A token with an unknown kid may force a fetch, but at most one per
/// <see cref="ForcedRefreshInterval"/>, so a flood of forged kids cannot turn into a flood on the issuer.
/// </summary>
internal sealed partial class JwksSigningKeySource : ISigningKeySource
{
    public const string HttpClientName = "Platform.Authentication.Jwks";

    private static readonly TimeSpan MinimumLifetime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaximumLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ForcedRefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>After a failed fetch nobody tries again for this long; callers get what there is.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    private const int MaximumDocumentBytes = 256 * 1024;

    private readonly Uri jwksUri;
    private readonly IHttpClientFactory httpClients;
    private readonly TimeProvider time;
    private readonly AuthenticationMetrics metrics;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private volatile KeySet? current;
    private Task<KeySet?> fetch = Task.FromResult<KeySet?>(null);
    private bool fetchIsForced;
    private DateTimeOffset lastForcedFetch = DateTimeOffset.MinValue;
    private DateTimeOffset noFetchBefore = DateTimeOffset.MinValue;

    public JwksSigningKeySource(IOptions<AuthOptions> options, IHttpClientFactory httpClients, TimeProvider time,
        AuthenticationMetrics metrics, ILogger<JwksSigningKeySource> logger)
    {
        jwksUri = options.Value.JwksUri is { IsAbsoluteUri: true, Scheme: "http" or "https" } uri
            ? uri
            : throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions),
                ["Auth:JwksUri must be the absolute http(s) address of the issuer's JWK set (or the service must register its own ISigningKeySource)."]);
        this.httpClients = httpClients;
        this.time = time;
        this.metrics = metrics;
        this.logger = logger;
    }

    private sealed record KeySet(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FreshUntil);

    public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        var keys = current;
        if (keys is null)
        {
            return WaitForKeysAsync(forced: false, cancellationToken);
        }
        if (time.GetUtcNow() >= keys.FreshUntil)
        {
            _ = SharedFetch(forced: false); // revalidate in the background; this request goes on with what we have
        }
        return ValueTask.FromResult(keys.Keys);
    }

    public ValueTask<IReadOnlyList<SecurityKey>> RefreshAsync(CancellationToken cancellationToken) =>
        WaitForKeysAsync(forced: true, cancellationToken);

    private async ValueTask<IReadOnlyList<SecurityKey>> WaitForKeysAsync(bool forced, CancellationToken cancellationToken)
    {
        // WaitAsync: a caller that gives up must not cancel the fetch the others are waiting for.
        var keys = await SharedFetch(forced).WaitAsync(cancellationToken) ?? current;
        return keys?.Keys ?? throw new SigningKeysUnavailableException($"No signing keys could be loaded from {jwksUri}.");
    }

    /// <summary>The running fetch if there is one, else a new one if allowed, else the keys we have.</summary>
    private Task<KeySet?> SharedFetch(bool forced)
    {
        lock (gate)
        {
            if (!fetch.IsCompleted)
            {
                // A forced refresh must see the keys as of now: a revalidation that started earlier may predate the new key.
                return forced && !fetchIsForced ? ForcedAfterAsync(fetch) : fetch;
            }
            var now = time.GetUtcNow();
            var rateLimited = forced && current is not null && now - lastForcedFetch < ForcedRefreshInterval;
            if (now < noFetchBefore || rateLimited)
            {
                return Task.FromResult(current);
            }
            if (forced)
            {
                lastForcedFetch = now;
            }
            fetchIsForced = forced;
            fetch = FetchAsync();
            return fetch;
        }
    }

    private async Task<KeySet?> ForcedAfterAsync(Task<KeySet?> earlier)
    {
        await earlier;
        return await SharedFetch(forced: true);
    }

    private async Task<KeySet?> FetchAsync()
    {
        await Task.Yield(); // run outside the caller's lock
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(jwksUri, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            var body = await ReadBoundedAsync(response.Content);
            var (keys, ignored) = JsonWebKeySetReader.Read(body);
            if (keys.Count == 0)
            {
                throw new InvalidDataException("The JWK set holds no usable signing key.");
            }
            var lifetime = Lifetime(response.Headers.CacheControl);
            var set = new KeySet(keys, time.GetUtcNow() + lifetime);
            current = set;
            metrics.JwksFetched(succeeded: true);
            LogFetched(logger, jwksUri, string.Join(' ', keys.Select(k => k.KeyId)), ignored.Count == 0 ? "none" : string.Join(' ', ignored), lifetime.TotalSeconds);
            return set;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidDataException)
        {
            lock (gate)
            {
                noFetchBefore = time.GetUtcNow() + RetryAfterFailure;
            }
            metrics.JwksFetched(succeeded: false);
            LogFetchFailed(logger, jwksUri, current is null ? "no keys to serve meanwhile" : "keeping the last good keys", e.Message);
            return current;
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content)
    {
        await using var stream = await content.ReadAsStreamAsync();
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > MaximumDocumentBytes)
            {
                throw new InvalidDataException($"The JWK set is larger than {MaximumDocumentBytes} bytes.");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The issuer's max-age, kept within bounds: a tiny one would hammer it, a huge one would delay rotations.</summary>
    internal static TimeSpan Lifetime(System.Net.Http.Headers.CacheControlHeaderValue? cacheControl)
    {
        if (cacheControl is null || (cacheControl.MaxAge is null && !cacheControl.NoStore && !cacheControl.NoCache))
        {
            return DefaultLifetime;
        }
        var maxAge = cacheControl.NoStore || cacheControl.NoCache ? TimeSpan.Zero : cacheControl.MaxAge!.Value;
        return TimeSpan.FromTicks(Math.Clamp(maxAge.Ticks, MinimumLifetime.Ticks, MaximumLifetime.Ticks));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded signing keys from {JwksUri}: kids {Kids}; ignored {Ignored}; fresh for {LifetimeSeconds} s")]
    private static partial void LogFetched(ILogger logger, Uri jwksUri, string kids, string ignored, double lifetimeSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetching signing keys from {JwksUri} failed ({Fallback}): {Error}")]
    private static partial void LogFetchFailed(ILogger logger, Uri jwksUri, string fallback, string error);
}
