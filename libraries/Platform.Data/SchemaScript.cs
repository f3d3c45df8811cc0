using System.Security.Cryptography;
using System.Text;

namespace Platform.Data;

/// <summary>
/// One numbered step of a schema: <c>NNNN_name.sql</c>. Applied once, in its own transaction with its row in
/// <c>schema_history</c>; never edited once released (the checksum finds an edit), only followed by a new step.
/// </summary>
public sealed record SchemaScript(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the text with line endings made LF, so a checkout on Windows does not look like an edit.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    public string Label => $"{Version:D4}_{Name}";
}
