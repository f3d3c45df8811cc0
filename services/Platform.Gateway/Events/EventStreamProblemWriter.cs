using Microsoft.Extensions.Options;

namespace Platform.Gateway.Events;

/// <summary>
/// A stream client asks for <c>Accept: text/event-stream</c> (EventSource always does), which the default writer reads
/// as "no JSON wanted" — a refused stream would then get no problem body, or a 500 where one is required. For the
/// stream's path, problems are written as <c>application/problem+json</c> whatever the Accept header says.
/// </summary>
public sealed class EventStreamProblemWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) =>
        context?.HttpContext.Request.Path.Equals(EventStreamApi.Path, StringComparison.OrdinalIgnoreCase) == true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), options: null, contentType: "application/problem+json"));
    }
}
