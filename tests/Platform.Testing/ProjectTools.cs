namespace Platform.Testing;

/// <summary>
/// Command-line tools the tests run from the project's own folder, installed (pinned, cached) by scripts/tools.sh,
/// which make test runs first.
/// </summary>
public static class ProjectTools
{
    public static string Bin { get; } = Path.Combine(RepoPaths.Root, ".tools", "bin");

    /// <summary>@redocly/cli, the OpenAPI linter.</summary>
    public static string Redocly => Require("redocly");

    /// <summary>Kiota, Microsoft's OpenAPI client generator (a dotnet tool).</summary>
    public static string Kiota => Require("kiota");

    private static string Require(string name)
    {
        var path = Path.Combine(Bin, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run scripts/tools.sh (make test does).");
    }
}
