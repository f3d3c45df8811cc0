using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Gateway.Events;
using Platform.Gateway.RateLimiting;
using Platform.Hosting.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.ApiDocs;

/// <summary>
/// The merged document, rebuilt in the background from the upstreams' documents (fetched over HTTP from their
/// destinations), so a request for it never waits on an upstream. Built at run time rather than at build time because
/// the route table is configuration: what the gateway publishes follows what it actually routes, in every deployment.
/// An upstream that does not answer keeps its operations from the last document that had them.
/// </summary>
public sealed partial class ApiDocument(
    IProxyConfigProvider proxyConfig, IOptions<ApiDocsOptions> options, IOptions<RateLimitOptions> rateLimits, IOptions<EventStreamOptions> eventStream,
    ILogger<ApiDocument> logger)
    : BackgroundLoop
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Dictionary<string, JsonObject> lastDocuments = new(StringComparer.Ordinal);
    private volatile byte[]? json;

    /// <summary>The UTF-8 JSON of the merged document; null until every upstream has answered once.</summary>
    public byte[]? Json => json;

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var complete = await RefreshAsync(stoppingToken);
            await Task.Delay(complete ? TimeSpan.FromSeconds(options.Value.RefreshSeconds) : RetryInterval, stoppingToken);
        }
    }

    /// <summary>Fetches every upstream's document and merges them; true when every upstream answered (now or before).</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var config = proxyConfig.GetConfig();
        var documents = new List<(string, JsonObject)>();
        foreach (var cluster in config.Clusters)
        {
            if (await FetchAsync(cluster, cancellationToken) is { } fetched)
            {
                lastDocuments[cluster.ClusterId] = fetched;
            }
            if (lastDocuments.TryGetValue(cluster.ClusterId, out var document))
            {
                documents.Add((cluster.ClusterId, document));
            }
        }
        if (documents.Count < config.Clusters.Count)
        {
            return false;
        }
        var merged = ApiDocumentMerger.Merge(documents, new RouteTable(config.Routes), IsRateLimited);
        if (eventStream.Value.Enabled)
        {
            EdgeOperations.AddEventStream(merged);
        }
        json = JsonSerializer.SerializeToUtf8Bytes(merged, Indented);
        return true;
    }

    private bool IsRateLimited(RouteConfig route)
    {
        var limits = rateLimits.Value;
        var named = route.Metadata?.GetValueOrDefault(RateLimitMiddleware.PolicyMetadata);
        return limits.Enabled && named != RateLimitMiddleware.NoPolicy
            && (named is not null || limits.Policies.ContainsKey(limits.DefaultAuthenticatedPolicy));
    }

    /// <summary>The first destination of the cluster that answers with a document.</summary>
    private async Task<JsonObject?> FetchAsync(ClusterConfig cluster, CancellationToken cancellationToken)
    {
        foreach (var destination in cluster.Destinations?.Values ?? [])
        {
            var address = new Uri(new Uri(destination.Address), options.Value.UpstreamDocumentPath);
            try
            {
                // In the HTTP version the gateway speaks to that upstream (HTTP/2 only, on auth's and tasks' h2c port).
                using var request = new HttpRequestMessage(HttpMethod.Get, address);
                if (cluster.HttpRequest?.Version is { } version)
                {
                    request.Version = version;
                    request.VersionPolicy = cluster.HttpRequest.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower;
                }
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) is JsonObject document)
                {
                    return document;
                }
                LogUnavailable(logger, cluster.ClusterId, address, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogUnavailable(logger, cluster.ClusterId, address, e.Message);
            }
        }
        return null;
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The API document of {Cluster} is not available at {Address}: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string cluster, Uri address, string reason);
}
