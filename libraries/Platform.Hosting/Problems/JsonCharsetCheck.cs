using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Platform.Hosting.Problems;

/// <summary>
/// JSON is UTF-8 (RFC 8259 §8.1). A JSON body declaring another charset, or one .NET does not know, is refused
/// with 415 here: left to the endpoints, model binding throws on an unknown charset (a 500) and a raw parser
/// would read the bytes as UTF-8 whatever the header says. For services whose every body is JSON (auth); a service
/// that stores bodies as they come (files) must not use it.
/// </summary>
public static class JsonCharsetCheck
{
    public static WebApplication UseUtf8JsonBodiesOnly(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type)
                && (type.SubTypeWithoutSuffix.Equals("json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
                && type.Charset.HasValue
                && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                && !type.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                await Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, type: ProblemTypes.UnsupportedMediaType,
                    title: "JSON bodies must be UTF-8.", detail: $"The charset '{type.Charset}' is not accepted; send UTF-8 or no charset.")
                    .ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }
}
