using Microsoft.AspNetCore.Mvc;

namespace Platform.Gateway.Edge;

public static class EdgeProblems
{
    /// <summary>Answers with the problem's status and its problem-details body (through the service defaults, so it carries the trace id).</summary>
    public static ValueTask WriteProblemAsync(this HttpContext context, int status, string type, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Type = type, Title = title, Detail = detail },
        });
    }
}
