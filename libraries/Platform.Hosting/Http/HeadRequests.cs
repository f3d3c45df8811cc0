using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Platform.Hosting.Http;

/// <summary>Marks a GET endpoint that also answers HEAD because of <see cref="HeadRequests.AnswerHeadLikeGet{TBuilder}"/>.</summary>
public sealed class ImplicitHeadMetadata
{
    public static readonly ImplicitHeadMetadata Instance = new();

    private ImplicitHeadMetadata()
    {
    }
}

/// <summary>Marks a GET endpoint whose route has a HEAD endpoint of its own, which the convention must leave alone.</summary>
public sealed class SeparateHeadMetadata
{
    public static readonly SeparateHeadMetadata Instance = new();

    private SeparateHeadMetadata()
    {
    }
}

/// <summary>
/// HEAD, which HTTP asks of every GET resource (RFC 9110 §9.3.2), answered by the GET endpoint itself. Routing matches
/// methods exactly, so a route mapped with <c>MapGet</c> answered HEAD with 405 — while the gateway forwards HEAD, and
/// monitors and link checkers send it. The GET handler runs as for a GET, with the same authorisation and the same
/// status and headers; the server sends no body for a HEAD (Kestrel drops what the handler writes). A handler that
/// would do real work only for the body asks <see cref="HttpMethods.IsHead"/> itself, as files' downloads do.
/// </summary>
public static class HeadRequests
{
    /// <summary>What API documents say once, instead of a HEAD operation beside each GET.</summary>
    public const string DocumentNote = "Every GET operation also answers HEAD: the same status and headers, without the body.";

    /// <summary>Every GET-only endpoint of <paramref name="builder"/> (a group or one endpoint) also answers HEAD.</summary>
    public static TBuilder AnswerHeadLikeGet<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Finally: after the endpoint's own conventions, so SeparateHeadMetadata added by them is seen.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { HttpMethods: [var method] } methods
                && HttpMethods.IsGet(method) && !endpoint.Metadata.OfType<SeparateHeadMetadata>().Any())
            {
                // Routing and the API explorer read the last method metadata.
                endpoint.Metadata.Add(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head], methods.AcceptCorsPreflight));
                endpoint.Metadata.Add(ImplicitHeadMetadata.Instance);
            }
        });
        return builder;
    }

    /// <summary>The route has its own HEAD endpoint: <see cref="AnswerHeadLikeGet{TBuilder}"/> must not add a second.</summary>
    public static TBuilder WithSeparateHead<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(SeparateHeadMetadata.Instance);
}
