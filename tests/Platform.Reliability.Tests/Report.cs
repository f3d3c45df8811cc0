using System.Globalization;
using System.Text;
using Platform.Testing;

namespace Platform.Reliability.Tests;

/// <summary>
/// The figures a suite measured, as a Markdown section in <c>.run/reliability/</c>; scripts/reliability-report.sh
/// puts the sections of the last runs together into docs/reliability.md. A suite writes its section before it
/// asserts, so a failed expectation is in the report too, not only in the test log.
/// </summary>
public static class Report
{
    public static string Directory => Path.Combine(RepoPaths.Root, ".run", "reliability");

    public static void Write(string suite, string section, string markdown)
    {
        var folder = Path.Combine(Directory, suite);
        System.IO.Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, section + ".md"), markdown.TrimEnd() + "\n");
    }

    /// <summary>A Markdown table; cells are escaped so a hostile value cannot break the table.</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object>> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", header).AppendLine(" |");
        text.Append('|').AppendJoin("", header.Select(_ => "---|")).AppendLine();
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
        }
        return text.ToString();
    }

    public static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static string Cell(object value) => value switch
    {
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => (value.ToString() ?? "").Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal),
    };
}
