using k8s;

namespace Platform.Operator.Kubernetes;

/// <summary>
/// Where the API server is and who we are: in a pod, the mounted service account (its token is re-read as
/// the kubelet rotates it); elsewhere a kubeconfig's current context (bearer token, client certificate and
/// key, CA data or file, insecure-skip-tls-verify), all parsed by KubernetesClient.
/// </summary>
public static class KubernetesConnection
{
    public static KubernetesClientConfiguration Configure(string? kubeconfigPath)
    {
        KubernetesClientConfiguration configuration;
        if (kubeconfigPath is { Length: > 0 })
        {
            configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath);
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            configuration = KubernetesClientConfiguration.InClusterConfig();
            configuration.TokenProvider = new ServiceAccountToken(ServiceAccountToken.InClusterPath);
        }
        else
        {
            // KubernetesClient reads only ~/.kube/config by itself; KUBECONFIG (its first file) comes first, as for kubectl.
            var fromEnvironment = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            configuration = fromEnvironment is { Length: > 0 }
                ? KubernetesClientConfiguration.BuildConfigFromConfigFile(fromEnvironment)
                : KubernetesClientConfiguration.BuildConfigFromConfigFile();
        }
        // Ordinary calls are short; watches end on the server's timeoutSeconds, not on this.
        configuration.HttpClientTimeout = TimeSpan.FromSeconds(30);
        return configuration;
    }

    /// <summary>The namespace the operator works in: configured, else the pod's (downward API), else the kubeconfig's, else "default".</summary>
    public static string Namespace(string? configured, KubernetesClientConfiguration configuration) =>
        configured is { Length: > 0 } ? configured
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } pod ? pod
        : configuration.Namespace is { Length: > 0 } fromConfig ? fromConfig
        : "default";
}
