using Platform.Auth.Sessions;
using Platform.Hosting.Problems;

namespace Platform.Auth;

/// <summary>Problem answers of the auth API, each with its stable type.</summary>
public static class AuthProblems
{
    public const string InvalidCredentials = ProblemTypes.BaseUri + "invalid-credentials";
    public const string InvalidRefreshToken = ProblemTypes.BaseUri + "invalid-refresh-token";
    public const string EmailTaken = ProblemTypes.BaseUri + "email-taken";
    public const string LoginThrottled = ProblemTypes.BaseUri + "login-throttled";
    public const string Overloaded = ProblemTypes.Overloaded;
    public const string SigningKeyUnavailable = ProblemTypes.BaseUri + "signing-key-unavailable";
    public const string AccountDisabledType = ProblemTypes.BaseUri + "account-disabled";
    public const string LastAdminType = ProblemTypes.BaseUri + "last-admin";
    public const string WrongPasswordType = ProblemTypes.BaseUri + "wrong-password";
    public const string InvalidResetTokenType = ProblemTypes.BaseUri + "invalid-reset-token";
    public const string InvalidVerificationTokenType = ProblemTypes.BaseUri + "invalid-verification-token";
    public const string EmailNotVerifiedType = ProblemTypes.BaseUri + "email-not-verified";
    public const string EmailAlreadyVerifiedType = ProblemTypes.BaseUri + "email-already-verified";
    public const string MailThrottledType = ProblemTypes.BaseUri + "mail-throttled";
    public const string ReauthenticationRequiredType = ProblemTypes.BaseUri + "reauthentication-required";

    public static IResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is not valid.", type: ProblemTypes.Validation);

    public static IResult InvalidLogin() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: InvalidCredentials,
            title: "The e-mail address or password is wrong.");

    public static IResult RefreshRejected() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: InvalidRefreshToken,
            title: "The refresh token is not valid.", detail: "Log in again.");

    public static IResult SessionExpired(SessionExpiry expiry) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ProblemTypes.SessionExpired,
            title: "The session has expired.",
            detail: expiry == SessionExpiry.Idle ? "It was not used for longer than the idle timeout; log in again." : "It reached its absolute lifetime; log in again.");

    public static IResult Throttled(HttpContext http, TimeSpan retryAfter, string type, string title)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: type == Overloaded ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status429TooManyRequests, type: type, title: title);
    }

    /// <summary>Only after the right password, so it tells nothing to someone who does not know it.</summary>
    public static IResult AccountDisabled() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: AccountDisabledType,
            title: "The account is disabled.", detail: "An administrator disabled it; contact them.");

    /// <summary>
    /// RFC 9470's step-up challenge: 401 with <c>error="insufficient_user_authentication"</c> and <c>max_age</c>, which a
    /// client tells from an expired token's 401 (refreshing does not help; logging in again does).
    /// </summary>
    public static IResult ReauthenticationRequired(HttpContext http, TimeSpan window)
    {
        var seconds = (int)window.TotalSeconds;
        http.Response.Headers.WWWAuthenticate = $"Bearer error=\"insufficient_user_authentication\", error_description=\"A more recent login is required\", max_age={seconds}";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ReauthenticationRequiredType,
            title: "A more recent login is required.",
            detail: $"This needs a session started by a login within the last {window.TotalMinutes:0.#} minutes; log in again and retry.");
    }

    /// <summary>403, not 401: the caller's token is fine, and a client must not take this for "log in again".</summary>
    public static IResult WrongPassword() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: WrongPasswordType, title: "The current password is wrong.");

    /// <summary>One answer for unknown, expired and used tokens: the link is dead, and which way it died helps nobody but a prober.</summary>
    public static IResult InvalidResetToken() =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: InvalidResetTokenType,
            title: "The password-reset link is not valid.", detail: "It is unknown, expired or already used; ask for a new one.");

    public static IResult InvalidVerificationToken() =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: InvalidVerificationTokenType,
            title: "The verification link is not valid.", detail: "It is unknown, expired or already used; ask for a new one.");

    /// <summary>Only after the right password, like <see cref="AccountDisabled"/>.</summary>
    public static IResult EmailNotVerified() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, type: EmailNotVerifiedType,
            title: "The e-mail address is not verified.",
            detail: "Open the link in the verification mail, or reset the password: a reset link proves the address too.");

    public static IResult LastAdmin() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: LastAdminType,
            title: "This is the last active admin.", detail: "Make another user an admin first.");

    public static IResult NoSigningKey() =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, type: SigningKeyUnavailable,
            title: "No signing key is active.", detail: "Tokens cannot be issued until the keyset has an active key.");
}
