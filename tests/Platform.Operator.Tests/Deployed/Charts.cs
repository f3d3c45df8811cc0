using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Operator.Tests.Deployed;

/// <summary>The repository's charts as `helm template` renders them (release "platform" in namespace "platform").</summary>
public static class Charts
{
    public const string Release = "platform";
    public const string Namespace = "platform";

    public static string Operator => Path.Combine(RepoPaths.Root, "charts", "platform-operator");

    public static string Platform => Path.Combine(RepoPaths.Root, "charts", "platform");

    /// <summary>
    /// The manifests of stdout only: helm prints notices (e.g. about the platform chart's dashboards symlink) on
    /// stderr, which must not end up in the YAML.
    /// </summary>
    public static async Task<IReadOnlyList<JsonObject>> TemplateAsync(string chart, params string[] arguments)
    {
        var start = new ProcessStartInfo("helm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["template", Release, chart, "--namespace", Namespace, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException("helm is not on PATH: run scripts/tools.sh and put .tools/bin on PATH (make test does).", exception);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return process.ExitCode == 0
                ? YamlJson.Documents(await output)
                : throw new InvalidOperationException($"helm template {chart} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{await errors}");
        }
    }

    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> manifests, string kind) =>
        manifests.Where(m => m["kind"]?.GetValue<string>() == kind);

    public static string Name(this JsonNode manifest) => manifest["metadata"]!["name"]!.GetValue<string>();
}
