using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Hosting.Problems;

public static class ProblemDetailsExtensions
{
    /// <summary>
    /// Every error leaves as RFC 7807 problem details with a stable type and the trace id to quote in a
    /// support request, and never with exception text or stack traces.
    /// </summary>
    public static IServiceCollection AddPlatformProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
            {
                problem.Type = ProblemTypes.ForStatus(status);
            }
            problem.Instance ??= context.HttpContext.Request.Path;
            problem.Extensions.Remove("exception");
            problem.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<PlatformExceptionHandler>();
        return services;
    }
}
