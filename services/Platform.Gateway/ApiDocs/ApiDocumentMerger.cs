using System.Globalization;
using System.Text.Json.Nodes;
using Platform.Gateway.RateLimiting;
using Platform.Hosting.Http;
using Platform.Hosting.Problems;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.ApiDocs;

/// <summary>
/// One document for everything the gateway routes, from the upstreams' own documents: only operations a configured route
/// forwards to the upstream that published them; public (anonymous) routes marked with <c>security: []</c> and
/// <c>x-platform-public</c>, every other one requiring the bearer token the edge checks; and the answers the edge itself
/// can give (429 of a rate limit, 502/503/504 of a failed forward). Schemas of the same name and content are shared; a
/// clash is renamed with the upstream's name.
/// </summary>
public static class ApiDocumentMerger
{
    public const string PublicExtension = "x-platform-public";
    private const string AnonymousPolicy = "Anonymous";
    private const string ProblemMediaType = "application/problem+json";
    private const string BearerScheme = "Bearer";
    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// <param name="upstreams">Each cluster's document, in cluster order.</param>
    /// <param name="rateLimited">Whether a route's answers can be a rate limit's 429.</param>
    public static JsonObject Merge(IReadOnlyList<(string Cluster, JsonObject Document)> upstreams, RouteTable routes, Func<RouteConfig, bool> rateLimited)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(rateLimited);
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var tags = new JsonArray();
        foreach (var (cluster, source) in upstreams)
        {
            var document = (JsonObject)source.DeepClone();
            ShareSchemas(cluster, document, schemas);
            foreach (var (path, item) in document["paths"]?.AsObject() ?? [])
            {
                foreach (var method in Methods)
                {
                    if (item?[method] is not JsonObject operation
                        || routes.Find(method, path) is not { } route || route.ClusterId != cluster)
                    {
                        continue;
                    }
                    DescribeEdge(operation, route, rateLimited(route));
                    if (method == "head")
                    {
                        WithoutBodies(operation);
                    }
                    var target = paths[path] as JsonObject ?? new JsonObject();
                    paths[path] = target;
                    target[method] = operation.DeepClone();
                }
            }
            foreach (var tag in document["tags"]?.AsArray() ?? [])
            {
                if (!tags.Any(t => t?["name"]?.GetValue<string>() == tag?["name"]?.GetValue<string>()))
                {
                    tags.Add(tag?.DeepClone());
                }
            }
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "Platform API",
                ["version"] = "v1",
                ["description"] = "Everything the gateway routes. Bodies are JSON, errors are problem details (application/problem+json) whose "
                    + "type is stable. Routes marked x-platform-public need no token; every other needs the header Authorization: Bearer followed by the accessToken "
                    + "from POST /api/auth/login. " + HeadRequests.DocumentNote,
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/", ["description"] = "This gateway" }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    [BearerScheme] = new JsonObject
                    {
                        ["type"] = "http",
                        ["scheme"] = "bearer",
                        ["bearerFormat"] = "JWT",
                        ["description"] = "The accessToken of POST /api/auth/login or /api/auth/refresh (ES256, 10 minutes).",
                    },
                },
            },
            ["tags"] = tags,
        };
    }

    /// <summary>Moves the document's schemas into the shared set, renaming (and re-pointing the references of) a clash.</summary>
    private static void ShareSchemas(string cluster, JsonObject document, JsonObject shared)
    {
        if (document["components"]?["schemas"] is not JsonObject own)
        {
            return;
        }
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, schema) in own)
        {
            if (shared[name] is { } existing && !JsonNode.DeepEquals(existing, schema))
            {
                renames[name] = string.Concat(char.ToUpperInvariant(cluster[0]).ToString(), cluster.AsSpan(1), name);
            }
        }
        if (renames.Count > 0)
        {
            RewriteReferences(document, renames);
        }
        foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject().ToList())
        {
            var target = renames.GetValueOrDefault(name, name);
            shared[target] ??= schema!.DeepClone();
        }
    }

    private static void RewriteReferences(JsonNode? node, Dictionary<string, string> renames)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference && reference.GetValue<string>() is var target
                    && target.StartsWith("#/components/schemas/", StringComparison.Ordinal)
                    && renames.TryGetValue(target["#/components/schemas/".Length..], out var renamed))
                {
                    obj["$ref"] = "#/components/schemas/" + renamed;
                }
                foreach (var (_, child) in obj.ToList())
                {
                    RewriteReferences(child, renames);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RewriteReferences(child, renames);
                }
                break;
        }
    }

    private static void DescribeEdge(JsonObject operation, RouteConfig route, bool rateLimited)
    {
        var responses = operation["responses"] as JsonObject ?? [];
        operation["responses"] = responses;
        if (string.Equals(route.AuthorizationPolicy, AnonymousPolicy, StringComparison.OrdinalIgnoreCase))
        {
            operation["security"] = new JsonArray();
            operation[PublicExtension] = true;
        }
        else
        {
            operation["security"] = new JsonArray(new JsonObject { [BearerScheme] = new JsonArray() });
            AddProblem(responses, StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized, "No valid access token (checked at the edge, then again by the service).",
                ("WWW-Authenticate", "The bearer challenge.", true));
            if (!string.IsNullOrEmpty(route.AuthorizationPolicy) && !string.Equals(route.AuthorizationPolicy, "Default", StringComparison.OrdinalIgnoreCase))
            {
                AddProblem(responses, StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, $"The token's user lacks what the route's {route.AuthorizationPolicy} policy requires (checked at the edge, then again by the service).");
            }
        }
        if (rateLimited)
        {
            AddProblem(responses, StatusCodes.Status429TooManyRequests, ProblemTypes.TooManyRequests, "The route's rate limit (per client address on public routes, per user otherwise) is spent.",
                ("Retry-After", "Seconds until a request may succeed.", true));
        }
        AddProblem(responses, StatusCodes.Status502BadGateway, ProblemTypes.BadGateway, "The gateway could not reach the service.");
        AddProblem(responses, StatusCodes.Status503ServiceUnavailable, ProblemTypes.ServiceUnavailable, "The service is unavailable for a moment.",
            ("Retry-After", "Seconds to wait before trying again.", false));
        AddProblem(responses, StatusCodes.Status504GatewayTimeout, ProblemTypes.GatewayTimeout, "The service did not answer within the route's timeout.");
    }

    /// <summary>A HEAD is answered without a body, the edge's own answers included.</summary>
    private static void WithoutBodies(JsonObject operation)
    {
        foreach (var (_, response) in operation["responses"]?.AsObject() ?? [])
        {
            (response as JsonObject)?.Remove("content");
        }
    }

    /// <summary>
    /// Adds a problem type to a status's answer: into the <c>type</c> enum of the upstream's description when there is one
    /// (the shape the services publish: <c>allOf</c> of a problem schema and the narrowed type), else a new answer.
    /// </summary>
    private static void AddProblem(JsonObject responses, int status, string type, string description, params (string Name, string Description, bool Required)[] headers)
    {
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (responses[key] is not JsonObject response)
        {
            response = new JsonObject
            {
                ["description"] = description,
                ["content"] = new JsonObject
                {
                    [ProblemMediaType] = new JsonObject
                    {
                        ["schema"] = new JsonObject
                        {
                            ["allOf"] = new JsonArray(
                                new JsonObject { ["$ref"] = "#/components/schemas/ProblemDetails" },
                                new JsonObject
                                {
                                    ["required"] = new JsonArray("type", "title", "status"),
                                    ["properties"] = new JsonObject
                                    {
                                        ["type"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray() },
                                        ["status"] = new JsonObject { ["type"] = "integer", ["enum"] = new JsonArray(status) },
                                    },
                                }),
                        },
                        ["examples"] = new JsonObject(),
                    },
                },
            };
            responses[key] = response;
        }
        var media = response["content"]?[ProblemMediaType];
        if (media?["schema"]?["allOf"]?.AsArray().Select(s => s?["properties"]?["type"]?["enum"]).OfType<JsonArray>().FirstOrDefault() is { } types
            && !types.Any(t => t?.GetValue<string>() == type))
        {
            types.Add(type);
            if (media["examples"] is JsonObject examples)
            {
                examples[type[ProblemTypes.BaseUri.Length..]] = new JsonObject
                {
                    ["value"] = new JsonObject { ["type"] = type, ["title"] = description, ["status"] = status },
                };
            }
        }
        foreach (var (name, headerDescription, required) in headers)
        {
            var responseHeaders = response["headers"] as JsonObject ?? [];
            response["headers"] = responseHeaders;
            if (responseHeaders[name] is JsonObject upstreams)
            {
                // The edge's own answer of that status may lack the header the service always sends.
                upstreams["required"] = required && upstreams["required"]?.GetValue<bool>() == true;
                continue;
            }
            responseHeaders[name] = new JsonObject
            {
                ["description"] = headerDescription,
                ["required"] = required,
                ["schema"] = new JsonObject { ["type"] = "string" },
            };
        }
    }
}
