namespace Platform.Deploy.Tests;

/// <summary>
/// Which command-line tools this machine has. helm is not optional: `make test` installs it (scripts/tools.sh) and a
/// chart test without it fails, saying so. Only the cluster tests skip, for want of a cluster.
/// </summary>
public static class Tools
{
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, tool)));

    public static string? Missing(params string[] tools) =>
        tools.Where(tool => !OnPath(tool)).ToList() is { Count: > 0 } missing
            ? $"needs {string.Join(" and ", missing)} on PATH, which this machine does not have"
            : null;

    /// <summary>The cluster the cluster tests may install into; opt-in, so no test ever touches a cluster by accident.</summary>
    public static string? KubeContext => Environment.GetEnvironmentVariable("PLATFORM_KUBE_CONTEXT") is { Length: > 0 } context ? context : null;
}

/// <summary>A fact that installs into a real cluster: needs helm, kubectl and PLATFORM_KUBE_CONTEXT (`make e2e` sets it).</summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        Skip = Tools.Missing("helm", "kubectl")
               ?? (Tools.KubeContext is null ? "needs a cluster: PLATFORM_KUBE_CONTEXT names the kube context to install into (make kind-up deploy e2e)" : null);
    }
}
