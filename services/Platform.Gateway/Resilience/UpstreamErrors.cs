using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Platform.Gateway.Edge;
using Platform.Hosting.Problems;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Platform.Gateway.Resilience;

public static class UpstreamErrors
{
    /// <summary>
    /// YARP answers a failed forward with a bare status. This turns it into problem details a client can act
    /// on: 503 with <c>Retry-After</c> while the upstream's circuit is open, 504 when it did not answer in time,
    /// 502 when it could not be reached, 413 when the client's body was over the route's limit. A client that
    /// went away gets nothing.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseUpstreamErrors(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.Use(async (context, next) =>
        {
            await next(context);
            var error = context.GetForwarderErrorFeature();
            if (error is null || context.Response.HasStarted || IsClientGone(error.Error))
            {
                return;
            }
            var upstream = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
            var problem = Describe(error, upstream, out var retryAfter);
            context.Response.Clear();
            if (retryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }
            await context.WriteProblemAsync(problem.Status!.Value, problem.Type!, problem.Title!, problem.Detail!);
        });
        return pipeline;
    }

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
