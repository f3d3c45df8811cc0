using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Authentication;

/// <summary>
/// The recent revocations as auth's database holds them (<c>GET /internal/revocations</c> beside its JWK set), for
/// while Redis cannot say: a pod that starts during a Redis outage would otherwise know of none, and a running one
/// would hear of none made during it. Not available where <c>Auth:JwksUri</c> is not set (auth itself). The first fetch
/// takes the whole list; each later one only what auth recorded since the last answer's <c>asOf</c>, less
/// <see cref="Overlap"/> — a revocation stamped before a read and committed after it still falls in the next one — so a
/// validator polling through an outage downloads what is new, not every revocation of the last token lifetime again.
/// The overlap rests on auth pods' clocks agreeing and on short transactions; nothing enforces either, so the whole
/// list is taken again every <see cref="WholeListEvery"/>, which bounds what a wrong guess can miss.
/// </summary>
internal sealed partial class RevocationsFromAuth(IOptions<AuthOptions> options, IHttpClientFactory httpClients, RevokedSessions revoked,
    TimeProvider time, ILogger<RevocationsFromAuth> logger)
{
    public const string HttpClientName = "Platform.Authentication.Revocations";

    /// <summary>How far back of the last answer each fetch reaches: far more than a revocation's stamp-to-commit time or auth pods' clock skew.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromSeconds(15);

    /// <summary>How often a fetch takes the whole list regardless.</summary>
    public static readonly TimeSpan WholeListEvery = TimeSpan.FromMinutes(1);

    private readonly Uri? uri = options.Value.JwksUri is { IsAbsoluteUri: true } jwks ? new Uri(jwks, RevocationList.Path) : null;
    // Of the last answer, and when the last whole list came; only the sync's loop fetches, one fetch at a time.
    private DateTimeOffset? asOf;
    private long wholeListAt;

    /// <summary>
    /// Records every revocation auth lists; false when there is nothing to ask, auth did not answer, or the caller gave
    /// up (<paramref name="cancellationToken"/>: a start-up budget, or stopping), which is not an error here.
    /// </summary>
    public async Task<bool> FetchAsync(CancellationToken cancellationToken)
    {
        if (uri is null)
        {
            return false;
        }
        try
        {
            var whole = asOf is null || time.GetElapsedTime(wholeListAt) >= WholeListEvery;
            var list = await httpClients.CreateClient(HttpClientName).GetFromJsonAsync<RevocationList>(whole ? uri : Since(asOf!.Value), cancellationToken);
            var revocations = list?.Revocations ?? [];
            foreach (var revocation in revocations)
            {
                if (revocation is not null)
                {
                    revoked.Revoke(revocation.SessionId, revocation.Until);
                }
            }
            asOf = list?.AsOf;
            if (whole)
            {
                wholeListAt = time.GetTimestamp();
            }
            LogFetched(logger, revocations.Count, revoked.Count);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            // Whatever answered there (a timeout is the client's own cancellation): a fallback must never stop the loop or the start.
            LogFetchFailed(logger, uri, e.Message);
            return false;
        }
    }

    private Uri Since(DateTimeOffset lastAnswer) =>
        new($"{uri}?since={Uri.EscapeDataString((lastAnswer - Overlap).ToString("O", CultureInfo.InvariantCulture))}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked sessions fetched from auth while Redis is unavailable: {Found} listed, {Known} known")]
    private static partial void LogFetched(ILogger logger, int found, int known);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revoked sessions could not be fetched from {Uri} either (will retry): {Error}")]
    private static partial void LogFetchFailed(ILogger logger, Uri uri, string error);
}

/// <summary>
/// The body of auth's <c>GET /internal/revocations</c>: each session whose tokens may still be valid somewhere, and until
/// when; <see cref="AsOf"/> is when auth read them (null from an auth that predates it, which ignores <c>?since=</c>).
/// </summary>
public sealed record RevocationList(IReadOnlyList<RevocationEntry> Revocations, DateTimeOffset? AsOf = null)
{
    /// <summary>Where auth serves it: beside its JWK set, on its port the other services already reach, and never through the gateway.</summary>
    public const string Path = "/internal/revocations";
}

public sealed record RevocationEntry(Guid SessionId, DateTimeOffset Until);
