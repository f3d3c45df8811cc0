using System.Security.Claims;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>The identity a bearer token proves, or why it proves none.</summary>
internal readonly record struct TokenValidationOutcome(ClaimsPrincipal? Principal, TokenFailure? Failure);

/// <summary>
/// Decides whether a bearer token is one of ours: the validated-token cache first, then a full check of
/// signature (ES256, RS256 or PS256 only — never "none" nor an HMAC keyed with a public key), issuer,
/// audience and lifetime, then the revoked sessions. A token signed with a key we have not seen yet makes
/// us refresh the keys once and check the same token again, so a key rotation rejects no valid token.
/// None of this calls Redis.
/// </summary>
internal sealed partial class BearerTokenValidator
{
    /// <summary>Our tokens are well under 1 KB; anything this long is not one, and is not worth hashing or parsing.</summary>
    private const int MaximumTokenLength = 8 * 1024;

    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters template;
    private readonly ISigningKeySource keySource;
    private readonly ValidatedTokenCache cache;
    private readonly RevokedSessions revoked;
    private readonly AuthenticationMetrics metrics;
    private readonly ILogger logger;
    private volatile ParametersForKeys? latestParameters;

    public BearerTokenValidator(IOptions<AuthOptions> options, ISigningKeySource keySource, ValidatedTokenCache cache,
        RevokedSessions revoked, AuthenticationMetrics metrics, ILogger<BearerTokenValidator> logger)
    {
        var settings = options.Value;
        template = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            RequireAudience = true,
            TryAllIssuerSigningKeys = false, // the kid names the key; a token without a known kid is not tried against every key
            ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            NameClaimType = PlatformClaims.UserId,
            RoleClaimType = PlatformClaims.Roles,
            AuthenticationType = BearerAuthenticationHandler.SchemeName,
        };
        this.keySource = keySource;
        this.cache = cache;
        this.revoked = revoked;
        this.metrics = metrics;
        this.logger = logger;
    }

    /// <summary>Validation parameters are built once per key set, not per request.</summary>
    private sealed record ParametersForKeys(IReadOnlyList<SecurityKey> Keys, TokenValidationParameters Parameters);

    /// <summary>
    /// The token is a piece of the <c>Authorization</c> header: a cached one is looked up without copying it out
    /// (a JWT is ~1 KB of characters, and most requests carry one already validated).
    /// </summary>
    public async ValueTask<TokenValidationOutcome> ValidateAsync(StringSegment token, CancellationToken cancellationToken)
    {
        if (token.Length is 0 or > MaximumTokenLength)
        {
            return Refuse(TokenFailure.Malformed);
        }
        var hash = TokenHash.Of(token.AsSpan());
        if (cache.TryGet(hash, out var cached))
        {
            metrics.TokenCacheRequest(hit: true);
            return new TokenValidationOutcome(cached, null);
        }
        metrics.TokenCacheRequest(hit: false);

        if (!TryRead(token.ToString(), out var jwt))
        {
            return Refuse(TokenFailure.Malformed);
        }
        TokenValidationResult result;
        try
        {
            result = await CheckWithLatestKeysAsync(jwt, cancellationToken);
        }
        catch (SigningKeysUnavailableException)
        {
            return new TokenValidationOutcome(null, TokenFailure.KeysUnavailable);
        }
        if (!result.IsValid)
        {
            LogRefused(logger, result.Exception?.GetType().Name);
            return Refuse(TokenFailure.From(result.Exception));
        }
        if (!TryReadIds(jwt, out var sessionId))
        {
            return Refuse(TokenFailure.Malformed);
        }
        if (revoked.IsRevoked(sessionId))
        {
            return Refuse(TokenFailure.Revoked);
        }
        cache.Add(hash, result.ClaimsIdentity, sessionId, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
        return new TokenValidationOutcome(new ClaimsPrincipal(result.ClaimsIdentity), null);
    }

    private async Task<TokenValidationResult> CheckWithLatestKeysAsync(JsonWebToken jwt, CancellationToken cancellationToken)
    {
        var keys = await keySource.GetKeysAsync(cancellationToken);
        var result = await handler.ValidateTokenAsync(jwt, ParametersFor(keys));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // Possibly signed with a key published after we cached the set: look again, then decide.
            var refreshed = await keySource.RefreshAsync(cancellationToken);
            if (!ReferenceEquals(refreshed, keys))
            {
                result = await handler.ValidateTokenAsync(jwt, ParametersFor(refreshed));
            }
        }
        return result;
    }

    private TokenValidationParameters ParametersFor(IReadOnlyList<SecurityKey> keys)
    {
        var latest = latestParameters;
        if (latest is not null && ReferenceEquals(latest.Keys, keys))
        {
            return latest.Parameters;
        }
        var parameters = template.Clone();
        parameters.IssuerSigningKeys = keys;
        latestParameters = new ParametersForKeys(keys, parameters);
        return parameters;
    }

    /// <summary>A signed JWT (not an encrypted one) whose header names its key.</summary>
    private static bool TryRead(string token, out JsonWebToken jwt)
    {
        try
        {
            jwt = new JsonWebToken(token);
            return !jwt.IsEncrypted && !string.IsNullOrEmpty(jwt.Kid);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException)
        {
            jwt = null!;
            return false;
        }
    }

    /// <summary>Endpoints rely on <c>sub</c> and <c>sid</c> being UUIDs; a signed token without them is still not ours.</summary>
    private static bool TryReadIds(JsonWebToken jwt, out Guid sessionId)
    {
        sessionId = default;
        return Guid.TryParse(jwt.Subject, out _)
            && jwt.TryGetPayloadValue<string>(PlatformClaims.SessionId, out var sid)
            && Guid.TryParse(sid, out sessionId);
    }

    private TokenValidationOutcome Refuse(TokenFailure failure)
    {
        metrics.ValidationFailed(failure.Reason);
        return new TokenValidationOutcome(null, failure);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bearer token refused: {Exception}")]
    private static partial void LogRefused(ILogger logger, string? exception);
}
