using System.Text.Json.Nodes;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>The helm and kubectl command lines the tool-gated tests run.</summary>
public static class Helm
{
    /// <summary>helm's standard output; its notices on stderr (e.g. about the symlinked dashboards folder) appear only in a failure's message.</summary>
    public static async Task<string> RunAsync(params string[] arguments)
    {
        Assert.True(Tools.OnPath("helm"), "helm is not on PATH: run `export PATH=\"$(scripts/tools.sh):$PATH\"` (make test does)");
        return (await ShellCommand.RunAsync("helm", arguments, environment: null, TimeSpan.FromMinutes(15))).EnsureSuccess("helm " + string.Join(' ', arguments)).StandardOutput;
    }

    public static async Task<string> KubectlAsync(params string[] arguments) =>
        (await ShellCommand.RunAsync("kubectl", ["--context", Tools.KubeContext!, .. arguments], environment: null, TimeSpan.FromMinutes(5)))
            .EnsureSuccess("kubectl " + string.Join(' ', arguments)).Output;

    /// <summary>`helm template` of a chart as its manifests (empty documents dropped).</summary>
    public static async Task<IReadOnlyList<JsonNode>> TemplateAsync(string chart, params string[] arguments)
    {
        var output = await RunAsync(["template", "platform", chart, "--namespace", "platform", .. arguments]);
        return [.. YamlNodes.LoadAll(output).OfType<JsonNode>()];
    }

    public static IEnumerable<JsonNode> OfKind(this IEnumerable<JsonNode> manifests, string kind) =>
        manifests.Where(m => (string?)m["kind"] == kind);

    public static string Name(this JsonNode manifest) => (string)manifest["metadata"]!["name"]!;
}
