using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Platform.Hosting.Problems;

namespace Platform.Api.OpenApi;

/// <summary>
/// Writes into each operation what the generator cannot see in a handler's signature: the bearer requirement and its 401,
/// the problem <c>type</c> values of each error status (as an enum, with an example), the headers of each answer, the
/// request headers it reads, the request example, and the 500 and 503 any request can meet. A HEAD's answers have no
/// body, so they describe none.
/// </summary>
internal sealed class PlatformOperationTransformer : IOpenApiOperationTransformer
{
    public const string BearerScheme = "Bearer";
    private const string ProblemMediaType = "application/problem+json";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var problems = metadata.OfType<ProblemResponseMetadata>().ToList();
        var headers = metadata.OfType<ResponseHeaderMetadata>().ToList();
        operation.Responses ??= [];

        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
            problems.Add(new ProblemResponseMetadata(StatusCodes.Status401Unauthorized, [ProblemTypes.Unauthorized], "No valid access token (missing, malformed, expired or of a closed session)."));
            headers.Add(new ResponseHeaderMetadata(StatusCodes.Status401Unauthorized, "WWW-Authenticate", "The bearer challenge, with error=\"invalid_token\" when a token was sent.", Required: true));
            if (metadata.OfType<IAuthorizeData>().Select(a => a.Policy ?? a.Roles).FirstOrDefault(p => p is not null) is { } policy)
            {
                problems.Add(new ProblemResponseMetadata(StatusCodes.Status403Forbidden, [ProblemTypes.Forbidden], $"The token is valid but its user lacks what the {policy} policy requires."));
            }
        }
        else
        {
            operation.Security = []; // public: said explicitly, not left to a default
        }
        problems.Add(new ProblemResponseMetadata(StatusCodes.Status500InternalServerError, [ProblemTypes.InternalError], "An unexpected failure; quote the traceId."));
        problems.Add(new ProblemResponseMetadata(StatusCodes.Status503ServiceUnavailable, [ProblemTypes.ServiceUnavailable], "A dependency (the database, the signing keys) is unreachable for a moment."));
        headers.Add(new ResponseHeaderMetadata(StatusCodes.Status503ServiceUnavailable, "Retry-After", "Seconds to wait before trying again.", Required: true));

        foreach (var group in problems.GroupBy(p => p.StatusCode))
        {
            await DescribeProblemAsync(operation, context, group.Key, [.. group.SelectMany(p => p.Types).Distinct()],
                string.Join(" ", group.Select(p => p.Description).Distinct()), cancellationToken);
        }
        foreach (var header in headers)
        {
            var response = Response(operation, header.StatusCode);
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers[header.Name] = new OpenApiHeader
            {
                Description = header.Description,
                Required = header.Required,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        }
        foreach (var header in metadata.OfType<RequestHeaderMetadata>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        if (metadata.OfType<RequestExampleMetadata>().LastOrDefault() is { } example && operation.RequestBody?.Content is { } content)
        {
            foreach (var mediaType in content.Values)
            {
                mediaType.Example = example.Example.DeepClone();
            }
        }
        if (HttpMethods.IsHead(context.Description.HttpMethod ?? ""))
        {
            WithoutBodies(operation);
        }
    }

    /// <summary>A HEAD is answered without a body, whatever its status: its answers have headers and a description only.</summary>
    private static void WithoutBodies(OpenApiOperation operation)
    {
        foreach (var response in operation.Responses!.Values.OfType<OpenApiResponse>())
        {
            response.Content = null;
        }
    }

    /// <summary>
    /// The status's problem schema (validation problems keep their <c>errors</c>) narrowed to the listed types, with an
    /// example per type.
    /// </summary>
    private static async Task DescribeProblemAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status,
        IReadOnlyList<string> types, string description, CancellationToken cancellationToken)
    {
        var response = Response(operation, status);
        response.Description = description;
        response.Content ??= new Dictionary<string, OpenApiMediaType>();
        var baseSchema = response.Content.TryGetValue(ProblemMediaType, out var existing) && existing.Schema is not null
            ? existing.Schema
            : await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: cancellationToken);
        var title = ReasonPhrases.GetReasonPhrase(status);
        response.Content.Clear();
        response.Content[ProblemMediaType] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                AllOf =
                [
                    baseSchema,
                    new OpenApiSchema
                    {
                        Required = new HashSet<string> { "type", "title", "status" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. types.Select(t => (JsonNode)JsonValue.Create(t))] },
                            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Enum = [JsonValue.Create(status)] },
                        },
                    },
                ],
            },
            Examples = types.ToDictionary(t => t[ProblemTypes.BaseUri.Length..], t => (IOpenApiExample)new OpenApiExample
            {
                Value = new JsonObject { ["type"] = t, ["title"] = title, ["status"] = status, ["traceId"] = "4bf92f3577b34da6a3ce929d0e0e4736" },
            }),
        };
    }

    private static OpenApiResponse Response(OpenApiOperation operation, int status)
    {
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (operation.Responses!.TryGetValue(key, out var found) && found is OpenApiResponse response)
        {
            return response;
        }
        response = new OpenApiResponse { Description = ReasonPhrases.GetReasonPhrase(status) };
        operation.Responses[key] = response;
        return response;
    }
}
