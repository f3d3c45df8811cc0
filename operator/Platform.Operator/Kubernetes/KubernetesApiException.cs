using System.Net;

namespace Platform.Operator.Kubernetes;

/// <summary>An API call that failed, with the message of the API server's Status (or the transport's).</summary>
public abstract class KubernetesApiException(HttpStatusCode? statusCode, string? reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>The Status reason, e.g. AlreadyExists, Conflict, Expired.</summary>
    public string? Reason { get; } = reason;

    public static KubernetesApiException From(HttpStatusCode statusCode, string? reason, string message) => statusCode switch
    {
        HttpStatusCode.NotFound => new NotFoundException(reason, message),
        HttpStatusCode.Conflict => new ConflictException(reason, message),
        HttpStatusCode.Gone => new GoneException(reason, message),
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ForbiddenException(statusCode, reason, message),
        _ => new UnavailableException(statusCode, reason, message),
    };
}

public sealed class NotFoundException(string? reason, string message) : KubernetesApiException(HttpStatusCode.NotFound, reason, message);

/// <summary>A stale resourceVersion, or a create of a name that exists (reason AlreadyExists).</summary>
public sealed class ConflictException(string? reason, string message) : KubernetesApiException(HttpStatusCode.Conflict, reason, message);

/// <summary>The resourceVersion a watch asked for is compacted away: list again.</summary>
public sealed class GoneException(string? reason, string message) : KubernetesApiException(HttpStatusCode.Gone, reason, message);

/// <summary>401 or 403: the service account lacks a credential or a permission (see the chart's Role).</summary>
public sealed class ForbiddenException(HttpStatusCode statusCode, string? reason, string message) : KubernetesApiException(statusCode, reason, message);

/// <summary>Anything worth retrying: 5xx, 429, a refused connection or a timeout.</summary>
public sealed class UnavailableException(HttpStatusCode? statusCode, string? reason, string message, Exception? inner = null)
    : KubernetesApiException(statusCode, reason, message, inner);
