using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Authentication;

/// <summary>
/// The recent revocations as auth's database holds them (<c>GET /internal/revocations</c> beside its JWK set), for
/// while Redis cannot say: a pod that starts during a Redis outage would otherwise know of none, and a running one
/// would hear of none made during it. Not available where <c>Auth:JwksUri</c> is not set (auth itself).
/// </summary>
internal sealed partial class RevocationsFromAuth(IOptions<AuthOptions> options, IHttpClientFactory httpClients, RevokedSessions revoked,
    ILogger<RevocationsFromAuth> logger)
{
    public const string HttpClientName = "Platform.Authentication.Revocations";

    private readonly Uri? uri = options.Value.JwksUri is { IsAbsoluteUri: true } jwks ? new Uri(jwks, RevocationList.Path) : null;

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
            var list = await httpClients.CreateClient(HttpClientName).GetFromJsonAsync<RevocationList>(uri, cancellationToken);
            var revocations = list?.Revocations ?? [];
            foreach (var revocation in revocations)
            {
                if (revocation is not null)
                {
                    revoked.Revoke(revocation.SessionId, revocation.Until);
                }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked sessions fetched from auth while Redis is unavailable: {Found} listed, {Known} known")]
    private static partial void LogFetched(ILogger logger, int found, int known);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revoked sessions could not be fetched from {Uri} either (will retry): {Error}")]
    private static partial void LogFetchFailed(ILogger logger, Uri uri, string error);
}

/// <summary>The body of auth's <c>GET /internal/revocations</c>: each session whose tokens may still be valid somewhere, and until when.</summary>
public sealed record RevocationList(IReadOnlyList<RevocationEntry> Revocations)
{
    /// <summary>Where auth serves it: beside its JWK set, on its port the other services already reach, and never through the gateway.</summary>
    public const string Path = "/internal/revocations";
}

public sealed record RevocationEntry(Guid SessionId, DateTimeOffset Until);
