using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Platform.Gateway.Edge;
using Platform.Hosting.Problems;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Platform.Gateway.Resilience;

public static class UpstreamErrors
{
    /// <summary>
    /// After the forward: YARP answers a failed one with a bare status. This turns it into problem details a client
    /// can act on: 503 with <c>Retry-After</c> while the upstream's circuit is open, 504 when it did not answer in
    /// time, 502 when it could not be reached, 413 when the client's body was over the route's limit. A client that
    /// went away gets nothing. A request body whose copy failed after the upstream had answered keeps that answer
    /// (see <see cref="RecordAnswers"/>). Called by <see cref="Upstreams.UpstreamMetrics"/>' middleware, so a
    /// forward costs one async step for both and the metrics see the status the client got. A refusal by the open
    /// circuit is counted too (<c>gateway_circuit_refusals_total</c>, what UpstreamCircuitOpen reads).
    /// </summary>
    public static ValueTask AnswerFailedForwardAsync(HttpContext context, GatewayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        var error = context.GetForwarderErrorFeature();
        if (error is null || context.Response.HasStarted || IsClientGone(error.Error) || IsAnsweredBeforeTheBody(context, error.Error))
        {
            return ValueTask.CompletedTask;
        }
        var upstream = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        var problem = Describe(error, upstream, out var retryAfter);
        context.Response.Clear();
        if (retryAfter is { } seconds) // only the open circuit's answer has one
        {
            metrics.CircuitRefused(upstream);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return context.WriteProblemAsync(problem.Status!.Value, problem.Type!, problem.Title!, problem.Detail!);
    }

    /// <summary>
    /// Notes the status of each upstream answer to a request that may have a body. Over HTTP/2 an upstream that
    /// answers without reading the body (204, 401, 415) then resets its stream, and the body's last DATA frame may
    /// still be on its way: YARP reports the failed copy after it has passed the answer on, and an answer without
    /// a body has not started yet. Without this note such an answer became a 502 or 400.
    /// </summary>
    public static void RecordAnswers(TransformBuilderContext transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        transforms.AddResponseTransform(transform =>
        {
            if (transform.ProxyResponse is { } answer && transform.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
            {
                transform.HttpContext.Features.Set(new UpstreamAnswer((int)answer.StatusCode));
            }
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// The body's copy failed after the upstream answered, and the response still carries that answer (YARP
    /// replaces it with a bare 502 when the answer's own body failed too).
    /// </summary>
    private static bool IsAnsweredBeforeTheBody(HttpContext context, ForwarderError error) =>
        error is ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyClient
        && context.Features.Get<UpstreamAnswer>() is { } answer
        && answer.Status == context.Response.StatusCode;

    private static bool IsClientGone(ForwarderError error) =>
        error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled;

    private static ProblemDetails Describe(IForwarderErrorFeature error, string upstream, out int? retryAfter)
    {
        retryAfter = null;
        var exception = error.Exception;
        if (Find<BrokenCircuitException>(exception) is { } broken)
        {
            retryAfter = Math.Max(1, (int)Math.Ceiling((broken.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));
            return Problem(StatusCodes.Status503ServiceUnavailable, ProblemTypes.ServiceUnavailable, "The service is unavailable.",
                $"Calls to '{upstream}' keep failing, so the gateway stopped sending them for a moment; retry after {retryAfter} s.");
        }
        if (Find<TimeoutRejectedException>(exception) is not null || error.Error == ForwarderError.RequestTimedOut)
        {
            return Problem(StatusCodes.Status504GatewayTimeout, ProblemTypes.GatewayTimeout, "The service did not answer in time.",
                $"'{upstream}' did not start answering within the route's timeout.");
        }
        if (Find<BadHttpRequestException>(exception) is { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "The request body is too large.",
                "The body is larger than this route accepts.");
        }
        if (error.Error is ForwarderError.RequestBodyClient)
        {
            return Problem(StatusCodes.Status400BadRequest, ProblemTypes.BadRequest, "The request body could not be read.",
                "The client stopped sending the body or sent a malformed one.");
        }
        return Problem(StatusCodes.Status502BadGateway, ProblemTypes.BadGateway, "The service could not be reached.",
            $"The gateway could not get an answer from '{upstream}'.");
    }

    private sealed record UpstreamAnswer(int Status);

    private static ProblemDetails Problem(int status, string type, string title, string detail) =>
        new() { Status = status, Type = type, Title = title, Detail = detail };

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }
        return null;
    }
}
