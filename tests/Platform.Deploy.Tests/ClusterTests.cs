using System.Text.Json;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// Installs both charts into a fresh namespace of a real cluster (the images `make deploy` loaded into kind),
/// runs `helm test`, and rotates the signing key. Only with PLATFORM_KUBE_CONTEXT set (`make e2e`).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterTests
{
    [ClusterFact]
    public async Task Both_charts_install_helm_test_passes_and_a_forced_rotation_activates_a_new_key()
    {
        var context = Tools.KubeContext!;
        var ns = $"platform-e2e-{Guid.NewGuid():N}"[..24];
        try
        {
            await Helm.RunAsync("upgrade", "--install", "platform-operator", Repo.OperatorChart, "--kube-context", context, "-n", ns, "--create-namespace",
                "-f", Path.Combine(Repo.OperatorChart, "values-kind.yaml"), "--wait", "--timeout", "5m");
            await Helm.RunAsync("upgrade", "--install", "platform", Repo.PlatformChart, "--kube-context", context, "-n", ns,
                "-f", Path.Combine(Repo.PlatformChart, "values-kind.yaml"), "--set", "ingress.enabled=false", "--wait", "--timeout", "10m");

            await Helm.RunAsync("test", "platform", "--kube-context", context, "-n", ns, "--logs");

            var before = await ActiveKidAsync(ns);
            await Helm.KubectlAsync("-n", ns, "patch", "signingkeyrotation", "platform", "--type", "merge", "-p", "{\"spec\":{\"rotateNow\":\"" + Guid.NewGuid() + "\"}}");
            // A forced rotation still pre-publishes the next key (3 min in values-kind.yaml) before it activates.
            var after = await Poll.UntilAsync(() => ActiveKidAsync(ns), kid => kid.Length > 0 && kid != before, TimeSpan.FromMinutes(8), "the next key to activate");
            Assert.NotEqual(before, after);
            await Helm.RunAsync("test", "platform", "--kube-context", context, "-n", ns, "--logs");
        }
        finally
        {
            await ShellCommand.RunAsync("helm", ["uninstall", "platform", "platform-operator", "--kube-context", context, "-n", ns, "--wait"], null, TimeSpan.FromMinutes(5));
            await ShellCommand.RunAsync("kubectl", ["--context", context, "delete", "namespace", ns, "--wait=false"], null, TimeSpan.FromMinutes(1));
        }
    }

    private static async Task<string> ActiveKidAsync(string ns)
    {
        var json = await Helm.KubectlAsync("-n", ns, "get", "signingkeyrotation", "platform", "-o", "json");
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("status", out var status) && status.TryGetProperty("activeKid", out var kid) ? kid.GetString() ?? "" : "";
    }
}
