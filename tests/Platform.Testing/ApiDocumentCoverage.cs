using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.OpenApi;
using Platform.Hosting.Http;

namespace Platform.Testing;

/// <summary>
/// A service's OpenAPI document against the endpoints it really maps: every endpoint a client may call is in the
/// document, the internal ones (health, metrics, /internal/*) are not, and the document names nothing else.
/// </summary>
public static class ApiDocumentCoverage
{
    /// <summary>
    /// "GET /api/tasks/{id}" for every method of every route endpoint (constraints dropped, as the document writes them),
    /// except the HEAD a GET answers by convention (<see cref="HeadRequests"/>), which the document states once.
    /// </summary>
    public static IReadOnlyList<string> MappedOperations(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return [.. RouteEndpoints(services)
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Where(method => !(method == HttpMethods.Head && endpoint.Metadata.GetMetadata<ImplicitHeadMetadata>() is not null))
                .Select(method => $"{method} {Template(endpoint.RoutePattern)}"))
            .Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>The routes whose GET endpoint answers HEAD too (<see cref="HeadRequests"/>).</summary>
    public static IReadOnlyList<string> ImplicitHeads(IServiceProvider services) =>
        [.. RouteEndpoints(services)
            .Where(endpoint => endpoint.Metadata.GetMetadata<ImplicitHeadMetadata>() is not null
                && endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is ["GET", "HEAD"])
            .Select(endpoint => Template(endpoint.RoutePattern)).Order(StringComparer.Ordinal)];

    /// <summary>Routes where more than one endpoint takes HEAD — each such HEAD would fail as ambiguous (a GET missing <c>WithSeparateHead</c>).</summary>
    public static IReadOnlyList<string> RoutesWithTwoHeads(IServiceProvider services) =>
        [.. RouteEndpoints(services)
            .Where(endpoint => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("HEAD") == true)
            .GroupBy(endpoint => Template(endpoint.RoutePattern))
            .Where(route => route.Count() > 1).Select(route => route.Key)];

    private static IEnumerable<RouteEndpoint> RouteEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

    public static IReadOnlyList<string> DocumentedOperations(JsonElement document) =>
        [.. document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(operation => operation.Name is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
                .Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))
            .Order(StringComparer.Ordinal)];

    /// <summary>Asserts the document lists exactly the public endpoints; returns the internal ones it left out, for the caller to check they exist.</summary>
    public static IReadOnlyList<string> AssertCovers(IServiceProvider services, JsonElement document)
    {
        var mapped = MappedOperations(services);
        var isInternal = mapped.ToLookup(operation => OpenApiExtensions.IsInternal(operation[(operation.IndexOf(' ', StringComparison.Ordinal) + 1)..]));
        var documented = DocumentedOperations(document);
        var missing = isInternal[false].Except(documented).ToList();
        var extra = documented.Except(isInternal[false]).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new InvalidOperationException(
                $"The OpenAPI document does not match the mapped endpoints.\nMapped but not documented: {string.Join(", ", missing)}\nDocumented but not mapped: {string.Join(", ", extra)}");
        }
        return [.. isInternal[true]];
    }

    private static string Template(RoutePattern pattern) =>
        "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => $"{{{parameter.Name}}}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        }))));
}
