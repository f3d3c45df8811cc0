using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;
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
        var (exitCode, output, errors) = await HelmAsync(["template", Release, chart, "--namespace", Namespace, .. arguments]);
        return exitCode == 0
            ? YamlJson.Documents(output)
            : throw new InvalidOperationException($"helm template {chart} {string.Join(' ', arguments)} failed ({exitCode}):\n{errors}");
    }

    /// <summary>
    /// `helm template --dry-run=server` against <paramref name="emulator"/>: the chart's <c>lookup</c> calls read what
    /// the emulator holds, as an install or upgrade would read the cluster. The exit code, the manifests, and stderr.
    /// </summary>
    public static async Task<(int ExitCode, IReadOnlyList<JsonObject> Manifests, string Errors)> TemplateAgainstAsync(ApiServerEmulator emulator, string chart, params string[] arguments)
    {
        var directory = Directory.CreateTempSubdirectory("helm-lookup-");
        try
        {
            var kubeconfig = EmulatorClient.WriteKubeconfig(emulator, directory.FullName);
            var (exitCode, output, errors) = await HelmAsync(["template", Release, chart, "--namespace", Namespace, "--dry-run=server", "--disable-openapi-validation", "--kubeconfig", kubeconfig, .. arguments]);
            return (exitCode, exitCode == 0 ? YamlJson.Documents(output) : [], errors);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output, string Errors)> HelmAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("helm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
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
            return (process.ExitCode, await output, await errors);
        }
    }

    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> manifests, string kind) =>
        manifests.Where(m => m["kind"]?.GetValue<string>() == kind);

    public static string Name(this JsonNode manifest) => manifest["metadata"]!["name"]!.GetValue<string>();
}
