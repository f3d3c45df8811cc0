using k8s;
using Platform.Operator.Kubernetes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>The operator's client pointed at an emulator, and the emulator's collection paths in the test namespace.</summary>
public static class EmulatorClient
{
    public const string Namespace = "platform";
    public const string Token = "test-token";

    public const string Secrets = "api/v1/namespaces/platform/secrets";
    public const string Pods = "api/v1/namespaces/platform/pods";
    public const string Deployments = "apis/apps/v1/namespaces/platform/deployments";
    public const string Autoscalers = "apis/autoscaling/v2/namespaces/platform/horizontalpodautoscalers";
    public const string Leases = "apis/coordination.k8s.io/v1/namespaces/platform/leases";
    public const string Events = "apis/events.k8s.io/v1/namespaces/platform/events";
    public const string Rotations = "apis/platform.dev/v1alpha1/namespaces/platform/signingkeyrotations";
    public const string Policies = "apis/platform.dev/v1alpha1/namespaces/platform/scalingpolicies";

    public static KubernetesApi Connect(ApiServerEmulator emulator, TimeSpan? watchTimeout = null, string token = Token) =>
        new(new KubernetesClientConfiguration { Host = emulator.BaseAddress.ToString(), AccessToken = token }, Namespace, watchTimeout ?? TimeSpan.FromSeconds(30));

    /// <summary>A kubeconfig file whose current context points at the emulator.</summary>
    public static string WriteKubeconfig(ApiServerEmulator emulator, string directory, string token = Token)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            current-context: emulator
            clusters:
            - name: emulator
              cluster:
                server: {emulator.BaseAddress}
            users:
            - name: operator
              user:
                token: {token}
            contexts:
            - name: emulator
              context:
                cluster: emulator
                user: operator
                namespace: {Namespace}
            """);
        return path;
    }
}
