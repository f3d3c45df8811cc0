using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Platform.Hosting.Problems;

namespace Platform.Authentication;

/// <summary>
/// The "Bearer" scheme: reads <c>Authorization: Bearer …</c>, asks <see cref="BearerTokenValidator"/>, and
/// answers a refused or missing token with 401, <c>WWW-Authenticate</c> as RFC 6750 §3 says (an error code
/// only when a token was presented) and a problem-details body.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    BearerTokenValidator validator,
    IProblemDetailsService problemDetails) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";

    private const string Prefix = "Bearer ";

    /// <summary>How long a client should wait when we cannot check tokens at all (the issuer has not answered since we started).</summary>
    private const string RetryAfterSeconds = "5";

    private TokenFailure? failure;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? authorization = Request.Headers.Authorization;
        StringSegment token;
        if (authorization is not null && authorization.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            token = new StringSegment(authorization, Prefix.Length, authorization.Length - Prefix.Length).Trim();
        }
        else if (authorization is not null && authorization.Equals(SchemeName, StringComparison.OrdinalIgnoreCase))
        {
            token = StringSegment.Empty; // refused as malformed
        }
        else
        {
            return AuthenticateResult.NoResult(); // no token, or another scheme: not ours to judge
        }

        var outcome = await validator.ValidateAsync(token, Context.RequestAborted);
        if (outcome.Principal is { } principal)
        {
            return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
        }
        failure = outcome.Failure;
        return AuthenticateResult.Fail(failure!.Description);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await HandleAuthenticateOnceSafeAsync();
        ProblemDetails problem;
        if (failure == TokenFailure.KeysUnavailable)
        {
            Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            Response.Headers.RetryAfter = RetryAfterSeconds;
            problem = new ProblemDetails { Type = ProblemTypes.ServiceUnavailable, Title = "Authentication is unavailable.", Detail = failure.Description };
        }
        else
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = failure is null
                ? SchemeName
                : $"{SchemeName} error=\"invalid_token\", error_description=\"{failure.Description}\"";
            problem = new ProblemDetails
            {
                Type = ProblemTypes.Unauthorized,
                Title = failure is null ? "An access token is required." : "The access token is not accepted.",
                Detail = failure?.Description ?? "Send an access token in the Authorization header: Bearer <token>.",
            };
        }
        problem.Status = Response.StatusCode;
        // TryWrite: a client that accepts no JSON still gets the status and the challenge, just no body.
        await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}
