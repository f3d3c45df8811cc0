using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.Api.OpenApi;

internal static class NumberSchemas
{
    /// <summary>
    /// The web JSON defaults read numbers from strings too, so the generator types them <c>["integer", "string"]</c> with
    /// a pattern. Answers always carry numbers as numbers, and clients should send them so: the document says what is
    /// written, which also keeps generated clients from modelling every count as a union.
    /// </summary>
    public static Task AsWritten(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.String)
            && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
        return Task.CompletedTask;
    }
}
