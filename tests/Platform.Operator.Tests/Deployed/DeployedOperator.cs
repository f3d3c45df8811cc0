using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Platform.Operator.Tests.Emulator;
using Platform.Testing;

namespace Platform.Operator.Tests.Deployed;

/// <summary>
/// The real operator binary as charts/platform-operator deploys it, against an API-server emulator that holds
/// what a cluster would: the chart's CRDs, its Role and RoleBinding (enforced, for the bearer token of its
/// ServiceAccount), and the platform chart's SigningKeyRotation, ScalingPolicy, Deployments and Secrets (the data
/// tier's passwords, which the operator must not be able to read). Only what a
/// pod gets from the kubelet is supplied here: the downward-API values, a kubeconfig (with a bearer token, as
/// the mounted service-account token would be) and its own port on this machine.
/// </summary>
public sealed class DeployedOperator : IAsyncDisposable
{
    /// <summary>
    /// Second-scale timings, through the charts' values: a key signs 12 s, its successor is published 6 s before,
    /// a retired key stays 3 s; the operator's propagation and token-lifetime bounds (1 s) come from extraEnv. The
    /// registry is one a user would have pushed to: the chart refuses to render without one.
    /// </summary>
    private static readonly string[] PlatformValues =
    [
        "--set", "global.imageRegistry=registry.example.com/platform",
        "--set", "signingKeys.rotation.rotationPeriod=12s",
        "--set", "signingKeys.rotation.prePublish=6s",
        "--set", "signingKeys.rotation.retireAfter=3s",
    ];

    private static readonly string[] OperatorValues =
    [
        "--include-crds",
        "--set", "global.imageRegistry=registry.example.com/platform",
        "--set-json", """extraEnv=[{"name":"Operator__KeysetPropagationSeconds","value":"1"},{"name":"Operator__TokenLifetimePlusSkewSeconds","value":"1"}]""",
    ];

    private readonly string directory;

    private DeployedOperator(ApiServerEmulator emulator, IReadOnlyList<JsonObject> platform, JsonObject role, string directory, string token)
    {
        Emulator = emulator;
        Platform = platform;
        Role = role;
        this.directory = directory;
        Token = token;
    }

    /// <summary>The bearer token of the operator's ServiceAccount: what a compromised operator pod would hold.</summary>
    public string Token { get; }

    public ApiServerEmulator Emulator { get; }

    /// <summary>The platform chart's manifests.</summary>
    public IReadOnlyList<JsonObject> Platform { get; }

    /// <summary>The Role the emulator enforces (the rendered one, unless the test edited it).</summary>
    public JsonObject Role { get; }

    public DotnetProcess Process { get; private set; } = null!;

    public string Directory => directory;

    public JsonObject Rotation => Platform.OfKind("SigningKeyRotation").Single();

    public JsonObject Policy => Platform.OfKind("ScalingPolicy").Single();

    public string SecretName => Rotation["spec"]!["secretName"]!.GetValue<string>();

    /// <param name="editRole">Changes the rendered Role before the emulator enforces it.</param>
    public static async Task<DeployedOperator> StartAsync(Action<JsonObject>? editRole = null)
    {
        var operatorChart = await Charts.TemplateAsync(Charts.Operator, OperatorValues);
        var platform = await Charts.TemplateAsync(Charts.Platform, PlatformValues);
        var emulator = await ApiServerEmulator.StartAsync();
        var directory = System.IO.Directory.CreateTempSubdirectory("deployed-operator-").FullName;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var deployed = new DeployedOperator(emulator, platform, operatorChart.OfKind("Role").Single(), directory, token);
        try
        {
            foreach (var crd in operatorChart.OfKind("CustomResourceDefinition"))
            {
                emulator.InstallCustomResourceDefinition(crd);
            }
            editRole?.Invoke(deployed.Role);
            emulator.Authorizer = Rbac.From([deployed.Role, .. operatorChart.OfKind("RoleBinding")], Charts.Namespace);
            emulator.Admission = AdmissionPolicies.From(operatorChart);
            var deployment = operatorChart.OfKind("Deployment").Single();
            var pod = deployment["spec"]!["template"]!["spec"]!;
            emulator.Users = new Dictionary<string, string> { [token] = Rbac.ServiceAccountUser(Charts.Namespace, pod["serviceAccountName"]!.GetValue<string>()) };

            foreach (var workload in platform.OfKind("Deployment"))
            {
                emulator.Put(EmulatorClient.Deployments, workload);
            }
            foreach (var secret in platform.OfKind("Secret"))
            {
                emulator.Put(EmulatorClient.Secrets, secret);
            }
            emulator.Put(EmulatorClient.Rotations, deployed.Rotation);
            emulator.Put(EmulatorClient.Policies, deployed.Policy);

            var container = pod["containers"]!.AsArray().Single()!;
            var environment = Environment(container, $"{deployment.Name()}-0");
            // The way a developer points a binary at a cluster: KUBECONFIG, as kubectl reads it.
            environment["KUBECONFIG"] = EmulatorClient.WriteKubeconfig(emulator, directory, token);
            environment["Operator__Port"] = "0";
            deployed.Process = DotnetProcess.Start(RepoPaths.Assembly("operator", "Platform.Operator"),
                container["args"]!.AsArray().Select(a => a!.GetValue<string>()), environment, Path.Combine(directory, "operator.log"));
            return deployed;
        }
        catch
        {
            await deployed.DisposeAsync();
            throw;
        }
    }

    /// <summary>What went wrong, for an assertion message: the 403s and the end of the operator's log.</summary>
    public string Diagnostics() =>
        $"403s: {string.Join("; ", Emulator.Denials.Select(d => d.Message))}\noperator log:\n{Process?.Tail()}";

    /// <summary>The container's env as the kubelet resolves it: values as written, fieldRefs from the pod.</summary>
    private static Dictionary<string, string> Environment(JsonNode container, string podName) =>
        (container["env"]?.AsArray() ?? []).ToDictionary(
            variable => variable!["name"]!.GetValue<string>(),
            variable => variable!["value"]?.GetValue<string>() ?? variable["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>() switch
            {
                "metadata.name" => podName,
                "metadata.namespace" => Charts.Namespace,
                var other => throw new NotSupportedException($"env {variable["name"]}: fieldRef {other}"),
            });

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        await Emulator.DisposeAsync();
        System.IO.Directory.Delete(directory, recursive: true);
    }
}
