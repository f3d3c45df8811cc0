using System.ComponentModel.DataAnnotations;

namespace Platform.Gateway.ApiDocs;

/// <summary>The <c>ApiDocs</c> section: the merged OpenAPI document and the docs page.</summary>
public sealed class ApiDocsOptions
{
    public const string Section = "ApiDocs";

    /// <summary>Off: neither <c>/api/openapi.json</c> nor <c>/api/docs</c> is mapped (they are 401 like any unknown route).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Off: the document is still published, the page is not.</summary>
    public bool PageEnabled { get; set; } = true;

    /// <summary>Where each upstream publishes its own document.</summary>
    [Required]
    public string UpstreamDocumentPath { get; set; } = "/openapi/v1.json";

    /// <summary>How often the merged document is rebuilt once every upstream has answered (until then, every 2 s).</summary>
    [Range(1, 86400)]
    public int RefreshSeconds { get; set; } = 60;
}
