using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using k8s;
using k8s.Models;
using Platform.Operator.Resources;
using Platform.Testing;
using YamlDotNet.RepresentationModel;

namespace Platform.Operator.Tests;

/// <summary>
/// The CRD manifests and the C# types describe the same objects. Each CRD's openAPIV3Schema is turned into
/// JSON Schema (OpenAPI's boolean exclusiveMinimum becomes the number form; x-kubernetes-* annotations are
/// ignored; durations are the operator's own grammar, as a pattern: CrdDurationTests) with every object closed
/// (additionalProperties: false), so a property the C# types write but the CRD lacks — which the API server
/// would silently prune — fails, and so does any property the CRD declares that the types never write.
/// </summary>
public sealed class CrdSchemaTests
{
    private static readonly DateTime Instant = new(2026, 11, 26, 3, 0, 0, DateTimeKind.Utc);

    public static SigningKeyRotation FullRotation() => new()
    {
        Metadata = new V1ObjectMeta { Name = "platform-keys", NamespaceProperty = "platform" },
        Spec = new SigningKeyRotationSpec { SecretName = "platform-keyset", Algorithm = "ES256", RotationPeriod = "720h", PrePublish = "10m", RetireAfter = "1h", RotateNow = "2026-11-26", Emergency = false,
            AuthPodSelector = new AuthPodSelector { MatchLabels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "auth", ["app.kubernetes.io/instance"] = "platform" } } },
        Status = new SigningKeyRotationStatus
        {
            ObservedGeneration = 3,
            ActiveKid = "20261126T030000Z-0a1b2c3d",
            NextKid = "20261226T025000Z-4e5f6a7b",
            LastRotationTime = Instant,
            NextRotationTime = Instant.AddDays(30),
            HandledRotateNow = "2026-11-26",
            PublishedKids = ["20261126T030000Z-0a1b2c3d", "20261226T025000Z-4e5f6a7b"],
            LaggingPods = ["auth-7d9f-x2"],
            Conditions = [new V1Condition { Type = "Ready", Status = "True", Reason = "KeyActive", Message = "Key signs.", LastTransitionTime = Instant, ObservedGeneration = 3 }],
        },
    };

    public static ScalingPolicy FullPolicy() => new()
    {
        Metadata = new V1ObjectMeta { Name = "platform", NamespaceProperty = "platform" },
        Spec = new ScalingPolicySpec
        {
            TargetRps = 100_000,
            HeadroomPercent = 20,
            Services =
            [
                new ScaledService
                {
                    Name = "tasks", Deployment = "platform-tasks", Share = 0.5m, RpsPerPod = 800, MinReplicas = 2, MaxReplicas = 200, CpuTargetPercent = 70,
                    RpsMetric = new RpsMetric { Name = "http_requests_per_second", TargetUtilizationPercent = 80 },
                    ScaleUp = new ScalingBehavior { StabilizationWindowSeconds = 0, MaxPercentPerPeriod = 100, MaxPodsPerPeriod = 4, PeriodSeconds = 15 },
                    ScaleDown = new ScalingBehavior { StabilizationWindowSeconds = 300, MaxPercentPerPeriod = 50, MaxPodsPerPeriod = 2, PeriodSeconds = 60 },
                },
            ],
        },
        Status = new ScalingPolicyStatus
        {
            ObservedGeneration = 1,
            ServiceCount = 1,
            Services = [new ScaledServiceStatus { Name = "tasks", Deployment = "platform-tasks", ReplicasAtTarget = 63, MinReplicas = 2, MaxReplicas = 76, CurrentReplicas = 4, DesiredReplicas = 5, CapacityRps = 60_800 }],
            Conditions = [new V1Condition { Type = "CapacityShortfall", Status = "False", Reason = "CapsSufficient", Message = "ok", LastTransitionTime = Instant, ObservedGeneration = 1 }],
        },
    };

    [Fact]
    public void A_fully_populated_signing_key_rotation_is_valid_and_uses_every_declared_property()
    {
        var (schema, openApi) = Schema("signingkeyrotations.platform.dev.yaml");
        var sample = Json(FullRotation());

        AssertValid(schema, sample);
        Assert.Empty(Undeclared(openApi, sample, "").Concat(Unused(openApi, sample, "")));
    }

    [Fact]
    public void A_fully_populated_scaling_policy_is_valid_and_uses_every_declared_property()
    {
        var (schema, openApi) = Schema("scalingpolicies.platform.dev.yaml");
        var sample = Json(FullPolicy());

        AssertValid(schema, sample);
        Assert.Empty(Undeclared(openApi, sample, "").Concat(Unused(openApi, sample, "")));
    }

    [Fact]
    public void The_defaults_of_the_csharp_types_are_valid_objects()
    {
        AssertValid(Schema("signingkeyrotations.platform.dev.yaml").Schema, Json(new SigningKeyRotation { Metadata = new V1ObjectMeta { Name = "k" }, Spec = new SigningKeyRotationSpec { SecretName = "s" } }));
        AssertValid(Schema("scalingpolicies.platform.dev.yaml").Schema, Json(new ScalingPolicy
        {
            Metadata = new V1ObjectMeta { Name = "p" },
            Spec = new ScalingPolicySpec { TargetRps = 10, Services = [new ScaledService { Name = "a", Deployment = "a", Share = 1, RpsPerPod = 10, MaxReplicas = 3 }] },
        }));
    }

    public static TheoryData<string, string, string> InvalidValues => new()
    {
        { "signingkeyrotations.platform.dev.yaml", "/spec/algorithm", "\"HS256\"" },
        { "signingkeyrotations.platform.dev.yaml", "/spec/prePublish", "\"ten minutes\"" },
        { "signingkeyrotations.platform.dev.yaml", "/spec/secretName", "\"\"" },
        { "scalingpolicies.platform.dev.yaml", "/spec/targetRps", "0" },
        { "scalingpolicies.platform.dev.yaml", "/spec/services/0/share", "0" },
        { "scalingpolicies.platform.dev.yaml", "/spec/services/0/cpuTargetPercent", "101" },
        { "scalingpolicies.platform.dev.yaml", "/spec/services/0/unknownField", "1" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void The_schemas_reject_invalid_values(string crd, string location, string value)
    {
        var (schema, _) = Schema(crd);
        var sample = crd.StartsWith("signing", StringComparison.Ordinal) ? Json(FullRotation()) : Json(FullPolicy());
        var parts = location.Trim('/').Split('/');
        var parent = parts[..^1].Aggregate((JsonNode)sample, (node, part) => int.TryParse(part, out var index) ? node[index]! : node[part]!);
        parent[parts[^1]] = JsonNode.Parse(value);

        Assert.False(Evaluate(schema, sample).IsValid, $"{location} = {value} was accepted");
    }

    [Theory]
    [InlineData("signingkeyrotations.platform.dev.yaml", "SigningKeyRotation", "signingkeyrotations")]
    [InlineData("scalingpolicies.platform.dev.yaml", "ScalingPolicy", "scalingpolicies")]
    public void Each_crd_names_its_kind_serves_v1alpha1_with_a_status_subresource_and_printer_columns(string file, string kind, string plural)
    {
        var crd = Crd(file);
        var version = crd["spec"]!["versions"]![0]!;

        Assert.Equal($"{plural}.platform.dev", crd["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(kind, crd["spec"]!["names"]!["kind"]!.GetValue<string>());
        Assert.Equal("Namespaced", crd["spec"]!["scope"]!.GetValue<string>());
        Assert.Equal("v1alpha1", version["name"]!.GetValue<string>());
        Assert.NotNull(version["subresources"]!["status"]);
        Assert.Contains("Ready", version["additionalPrinterColumns"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
    }

    private static JsonObject Crd(string file)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "charts", "platform-operator", "crds", file));
        yaml.Load(reader);
        return YamlJson.ToJson(yaml.Documents[0].RootNode)!.AsObject();
    }

    private static (JsonSchema Schema, JsonObject OpenApi) Schema(string file)
    {
        var openApi = Crd(file)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();
        var jsonSchema = ToJsonSchema(openApi.DeepClone(), isMetadata: false)!;
        var text = jsonSchema.ToJsonString();
        return (JsonSchema.FromText(text, baseUri: new Uri($"https://platform.dev/schemas/{file}/{Guid.NewGuid():N}")), openApi);
    }

    /// <summary>OpenAPI v3 (as CRDs write it) to JSON Schema 2020-12, closing every object that lists its properties.</summary>
    private static JsonNode? ToJsonSchema(JsonNode? node, bool isMetadata)
    {
        if (node is not JsonObject schema)
        {
            return node;
        }
        foreach (var key in schema.Select(p => p.Key).Where(k => k.StartsWith("x-kubernetes-", StringComparison.Ordinal)).ToList())
        {
            schema.Remove(key);
        }
        if (schema["exclusiveMinimum"] is JsonValue exclusive && exclusive.GetValueKind() == JsonValueKind.True)
        {
            schema["exclusiveMinimum"] = schema["minimum"]!.DeepClone();
            schema.Remove("minimum");
        }
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, property) in properties.ToList())
            {
                properties[name] = ToJsonSchema(property?.DeepClone(), name == "metadata");
            }
            if (!isMetadata)
            {
                schema["additionalProperties"] = false;
            }
        }
        if (schema["items"] is { } items)
        {
            schema["items"] = ToJsonSchema(items.DeepClone(), false);
        }
        return schema;
    }

    private static EvaluationResults Evaluate(JsonSchema schema, JsonObject sample)
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        using var document = JsonDocument.Parse(sample.ToJsonString());
        return schema.Evaluate(document.RootElement, options);
    }

    private static void AssertValid(JsonSchema schema, JsonObject sample)
    {
        var result = Evaluate(schema, sample);
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(result.IsValid, string.Join("\n", errors));
    }

    /// <summary>Properties of the sample the schema does not declare.</summary>
    private static IEnumerable<string> Undeclared(JsonNode? schema, JsonNode? sample, string path) => Walk(schema, sample, path, reportUndeclared: true);

    /// <summary>Properties the schema declares that the fully populated sample never writes.</summary>
    private static IEnumerable<string> Unused(JsonNode? schema, JsonNode? sample, string path) => Walk(schema, sample, path, reportUndeclared: false);

    private static IEnumerable<string> Walk(JsonNode? schema, JsonNode? sample, string path, bool reportUndeclared)
    {
        if (sample is JsonArray array && schema?["items"] is { } items)
        {
            return array.SelectMany((item, i) => Walk(items, item, $"{path}/{i}", reportUndeclared));
        }
        if (sample is not JsonObject obj || schema?["properties"] is not JsonObject properties || path == "/metadata")
        {
            return [];
        }
        var names = reportUndeclared ? obj.Select(p => p.Key).Where(k => !properties.ContainsKey(k)) : properties.Select(p => p.Key).Where(k => !obj.ContainsKey(k));
        return names.Select(n => $"{path}/{n}").Concat(obj.Where(p => properties.ContainsKey(p.Key)).SelectMany(p => Walk(properties[p.Key], p.Value, $"{path}/{p.Key}", reportUndeclared)));
    }

    private static JsonObject Json(object resource) => JsonNode.Parse(KubernetesJson.Serialize(resource))!.AsObject();
}
