using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.Api.OpenApi;

internal static class AllowedValuesSchemas
{
    /// <summary>
    /// A property marked <see cref="AllowedValuesAttribute"/> (a task's status) is an <c>enum</c> in the document, which
    /// the generator does not do by itself: clients get the closed set, and the contract tests hold answers to it.
    /// </summary>
    public static Task AsEnum(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(AllowedValuesAttribute), inherit: true)
            .OfType<AllowedValuesAttribute>().FirstOrDefault() is { } allowed)
        {
            schema.Enum = [.. allowed.Values.Select(value => JsonSerializer.SerializeToNode(value) ?? JsonValue.Create((string?)null)!)];
        }
        return Task.CompletedTask;
    }
}
