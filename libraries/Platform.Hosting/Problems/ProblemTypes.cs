using Microsoft.AspNetCore.Http;

namespace Platform.Hosting.Problems;

/// <summary>
/// The stable <c>type</c> URIs of our problem details. Clients branch on these, never on titles or details.
/// </summary>
public static class ProblemTypes
{
    public const string BaseUri = "https://platform.dev/problems/";

    public const string BadRequest = BaseUri + "bad-request";
    public const string InvalidJson = BaseUri + "invalid-json";
    public const string Validation = BaseUri + "validation";
    public const string Unauthorized = BaseUri + "unauthorized";

    /// <summary>The session passed its idle timeout or absolute lifetime: log in again (a refresh cannot help).</summary>
    public const string SessionExpired = BaseUri + "session-expired";
    public const string Forbidden = BaseUri + "forbidden";
    public const string NotFound = BaseUri + "not-found";
    public const string MethodNotAllowed = BaseUri + "method-not-allowed";
    public const string RequestTimeout = BaseUri + "request-timeout";
    public const string Conflict = BaseUri + "conflict";
    public const string PreconditionFailed = BaseUri + "precondition-failed";
    public const string PayloadTooLarge = BaseUri + "payload-too-large";
    public const string UnsupportedMediaType = BaseUri + "unsupported-media-type";
    public const string RangeNotSatisfiable = BaseUri + "range-not-satisfiable";
    public const string TooManyRequests = BaseUri + "too-many-requests";
    public const string HeadersTooLarge = BaseUri + "headers-too-large";
    public const string InternalError = BaseUri + "internal-error";
    public const string BadGateway = BaseUri + "bad-gateway";
    public const string ServiceUnavailable = BaseUri + "service-unavailable";

    /// <summary>A bounded resource of the instance (hashing slots, upload slots) stayed taken; 503 with Retry-After.</summary>
    public const string Overloaded = BaseUri + "overloaded";
    public const string GatewayTimeout = BaseUri + "gateway-timeout";

    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => BadRequest,
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status408RequestTimeout => RequestTimeout,
        StatusCodes.Status409Conflict => Conflict,
        StatusCodes.Status412PreconditionFailed => PreconditionFailed,
        StatusCodes.Status413PayloadTooLarge => PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status416RangeNotSatisfiable => RangeNotSatisfiable,
        StatusCodes.Status422UnprocessableEntity => Validation,
        StatusCodes.Status429TooManyRequests => TooManyRequests,
        StatusCodes.Status431RequestHeaderFieldsTooLarge => HeadersTooLarge,
        StatusCodes.Status502BadGateway => BadGateway,
        StatusCodes.Status503ServiceUnavailable => ServiceUnavailable,
        StatusCodes.Status504GatewayTimeout => GatewayTimeout,
        >= 500 => InternalError,
        _ => BadRequest,
    };
}
