using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;
using Platform.Hosting.Problems;

namespace Platform.Api.OpenApi;

/// <summary>A problem answer an endpoint gives, with every <c>type</c> it can carry at that status.</summary>
public sealed record ProblemResponseMetadata(int StatusCode, IReadOnlyList<string> Types, string Description);

/// <summary>A header an answer of that status carries.</summary>
public sealed record ResponseHeaderMetadata(int StatusCode, string Name, string Description, bool Required);

/// <summary>A request header the endpoint reads (conditional requests, ranges), which its signature does not show.</summary>
public sealed record RequestHeaderMetadata(string Name, string Description);

/// <summary>An example body for the request.</summary>
public sealed record RequestExampleMetadata(JsonNode Example);

/// <summary>
/// What an endpoint answers, beyond what its signature tells the generator: problem types per status, headers and
/// request examples. <see cref="PlatformOperationTransformer"/> writes them into the document.
/// </summary>
public static class ApiDescriptionConventions
{
    /// <summary>A problem-details answer; 400 with the <c>validation</c> type is described with its <c>errors</c> map.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, int statusCode, string description, params string[] types)
        where TBuilder : IEndpointConventionBuilder
    {
        if (types.Contains(ProblemTypes.Validation))
        {
            builder.ProducesValidationProblem(statusCode);
        }
        else
        {
            builder.ProducesProblem(statusCode);
        }
        return builder.WithMetadata(new ProblemResponseMetadata(statusCode, types, description));
    }

    /// <summary>What any endpoint reading a JSON body answers to a bad one: malformed or missing (400), not JSON or not UTF-8 (415).</summary>
    public static TBuilder ProducesJsonBodyProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .ProducesProblems(StatusCodes.Status400BadRequest, "The body is malformed JSON, missing, or a field is not valid (errors names it and why).",
                ProblemTypes.Validation, ProblemTypes.InvalidJson, ProblemTypes.BadRequest)
            .ProducesProblems(StatusCodes.Status415UnsupportedMediaType, "The body is not JSON, or not UTF-8.", ProblemTypes.UnsupportedMediaType);

    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, int statusCode, string name, string description, bool required = true)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ResponseHeaderMetadata(statusCode, name, description, required));

    public static TBuilder WithRequestHeader<TBuilder>(this TBuilder builder, string name, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestHeaderMetadata(name, description));

    /// <summary>
    /// The body a handler reads itself (not bound by a parameter), described as <typeparamref name="TBody"/>. Not
    /// <c>Accepts</c>: that would also make routing refuse other content types with its own 415, before the handler's.
    /// </summary>
    public static TBuilder WithRequestBody<TBuilder, TBody>(this TBuilder builder, params string[] contentTypes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = typeof(TBody) == typeof(Stream)
                ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }
                : await context.GetOrCreateSchemaAsync(typeof(TBody), cancellationToken: cancellationToken);
            var example = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestExampleMetadata>().LastOrDefault()?.Example;
            operation.RequestBody ??= new OpenApiRequestBody { Required = true, Content = new Dictionary<string, OpenApiMediaType>() };
            foreach (var contentType in contentTypes)
            {
                operation.RequestBody.Content![contentType] = new OpenApiMediaType { Schema = schema, Example = example?.DeepClone() };
            }
        });

    public static TBuilder WithRequestExample<TBuilder>(this TBuilder builder, object example)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestExampleMetadata(JsonSerializer.SerializeToNode(example, JsonSerializerOptions.Web)!));
}
