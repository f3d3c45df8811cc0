using System.Text.Json.Nodes;
using Platform.Gateway.ApiDocs;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.Tests;

/// <summary>The merged document as a pure function of the route table and the upstreams' documents.</summary>
public sealed class ApiDocumentMergerTests
{
    private static readonly RouteConfig[] Routes =
    [
        new() { RouteId = "auth-login", ClusterId = "auth", AuthorizationPolicy = "Anonymous", Match = new() { Path = "/api/auth/login", Methods = ["POST"] } },
        new() { RouteId = "auth-well-known", ClusterId = "auth", AuthorizationPolicy = "Anonymous", Match = new() { Path = "/.well-known/{**rest}", Methods = ["GET"] } },
        new() { RouteId = "auth", ClusterId = "auth", Match = new() { Path = "/api/auth/{**rest}" } },
        new() { RouteId = "tasks", ClusterId = "tasks", Match = new() { Path = "/api/tasks/{**rest}" } },
        new() { RouteId = "moved", ClusterId = "tasks", Match = new() { Path = "/api/auth/legacy/{id}" } },
    ];

    [Fact]
    public void Only_operations_a_route_forwards_to_their_own_upstream_are_published()
    {
        var merged = Merge();

        Assert.Equal(
            ["/.well-known/jwks.json", "/api/auth/login", "/api/auth/me", "/api/tasks", "/api/tasks/{id}"],
            merged["paths"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Public_routes_are_marked_and_the_others_need_the_bearer_token_with_the_edges_answers()
    {
        var paths = Merge()["paths"]!;

        var login = paths["/api/auth/login"]!["post"]!;
        Assert.True(login[ApiDocumentMerger.PublicExtension]!.GetValue<bool>());
        Assert.Empty(login["security"]!.AsArray());
        var me = paths["/api/auth/me"]!["get"]!;
        Assert.NotNull(me["security"]![0]!["Bearer"]);
        Assert.Equal(["https://platform.dev/problems/unauthorized"], ProblemTypes(me, "401"));
        Assert.Equal(["https://platform.dev/problems/login-throttled", "https://platform.dev/problems/too-many-requests"], ProblemTypes(login, "429"));
        Assert.NotNull(me["responses"]!["504"]);
    }

    [Fact]
    public void A_heads_answers_describe_no_body_not_even_the_edges_problems()
    {
        var head = Merge()["paths"]!["/api/tasks/{id}"]!["head"]!;

        var responses = head["responses"]!.AsObject();
        Assert.Contains("404", responses.Select(r => r.Key));
        Assert.Contains("401", responses.Select(r => r.Key));
        Assert.Contains("502", responses.Select(r => r.Key));
        Assert.All(responses, response => Assert.Null(response.Value!["content"]));
        Assert.NotNull(Merge()["paths"]!["/api/tasks/{id}"]!["get"]!["responses"]!["401"]!["content"]);
    }

    [Fact]
    public void Schemas_of_the_same_name_are_shared_when_equal_and_renamed_when_not()
    {
        var merged = Merge();

        var schemas = merged["components"]!["schemas"]!.AsObject().Select(s => s.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["Item", "ProblemDetails", "TasksItem"], schemas);
        Assert.Equal("#/components/schemas/TasksItem",
            merged["paths"]!["/api/tasks/{id}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
    }

    private static JsonObject Merge() =>
        ApiDocumentMerger.Merge([("auth", AuthDocument()), ("tasks", TasksDocument())], new RouteTable(Routes), _ => true);

    private static string[] ProblemTypes(JsonNode operation, string status) =>
        [.. operation["responses"]![status]!["content"]!["application/problem+json"]!["schema"]!["allOf"]![1]!["properties"]!["type"]!["enum"]!
            .AsArray().Select(t => t!.GetValue<string>())];

    private static JsonObject AuthDocument() => JsonNode.Parse("""
        {
          "openapi": "3.1.1",
          "paths": {
            "/api/auth/login": { "post": { "security": [], "responses": { "200": { "description": "OK" }, "429": { "description": "throttled",
              "content": { "application/problem+json": { "schema": { "allOf": [ { "$ref": "#/components/schemas/ProblemDetails" },
                { "properties": { "type": { "type": "string", "enum": [ "https://platform.dev/problems/login-throttled" ] } } } ] }, "examples": {} } } } } } },
            "/api/auth/me": { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Item" } } } } } } },
            "/api/auth/legacy/{id}": { "get": { "responses": { "200": { "description": "OK" } } } },
            "/.well-known/jwks.json": { "get": { "responses": { "200": { "description": "OK" } } } },
            "/internal/keyset": { "get": { "responses": { "200": { "description": "OK" } } } }
          },
          "components": { "schemas": { "ProblemDetails": { "type": "object" }, "Item": { "type": "object", "properties": { "email": { "type": "string" } } } } }
        }
        """)!.AsObject();

    private static JsonObject TasksDocument() => JsonNode.Parse("""
        {
          "openapi": "3.1.1",
          "paths": {
            "/api/tasks": { "get": { "responses": { "200": { "description": "OK" } } } },
            "/api/tasks/{id}": { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Item" } } } } } },
              "head": { "responses": { "200": { "description": "OK" }, "404": { "description": "No such task",
                "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/ProblemDetails" } } } } } } },
            "/healthz": { "get": { "responses": { "200": { "description": "OK" } } } }
          },
          "components": { "schemas": { "ProblemDetails": { "type": "object" }, "Item": { "type": "object", "properties": { "title": { "type": "string" } } } } }
        }
        """)!.AsObject();
}
