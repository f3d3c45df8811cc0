using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts.Keys;

namespace Platform.Operator.Tests.Emulator;

/// <summary>Objects as a user would write them into the emulator, and readers for what the operator wrote.</summary>
public static class Objects
{
    public static JsonObject Rotation(string name, string secretName, string rotationPeriod = "1h", string prePublish = "2s", string retireAfter = "3s", string? rotateNow = null, bool emergency = false)
    {
        var spec = new JsonObject { ["secretName"] = secretName, ["algorithm"] = "ES256", ["rotationPeriod"] = rotationPeriod, ["prePublish"] = prePublish, ["retireAfter"] = retireAfter, ["emergency"] = emergency };
        if (rotateNow is not null)
        {
            spec["rotateNow"] = rotateNow;
        }
        return new JsonObject { ["apiVersion"] = "platform.dev/v1alpha1", ["kind"] = "SigningKeyRotation", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
    }

    public static JsonObject Deployment(string name) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["replicas"] = 2, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } } },
    };

    /// <summary>An auth pod; not ready is how a crash-looping one looks (its phase stays Running).</summary>
    public static JsonObject AuthPod(string name, string release = "platform", bool ready = true) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "auth", ["app.kubernetes.io/instance"] = release } },
        ["status"] = new JsonObject
        {
            ["phase"] = "Running",
            ["podIP"] = "10.0.0.1",
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False" }),
        },
    };

    public static JsonObject Policy(string name, long targetRps, params (string Service, decimal Share, decimal RpsPerPod, int Min, int Max)[] services) => new()
    {
        ["apiVersion"] = "platform.dev/v1alpha1",
        ["kind"] = "ScalingPolicy",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["targetRps"] = targetRps,
            ["headroomPercent"] = 20,
            ["services"] = new JsonArray(services.Select(s => (JsonNode)new JsonObject
            {
                ["name"] = s.Service,
                ["deployment"] = s.Service,
                ["share"] = s.Share,
                ["rpsPerPod"] = s.RpsPerPod,
                ["minReplicas"] = s.Min,
                ["maxReplicas"] = s.Max,
                ["cpuTargetPercent"] = 70,
            }).ToArray()),
        },
    };

    public static Keyset? KeysetIn(JsonObject? secret) =>
        secret?["data"]?[KeysetFile.FileName]?.GetValue<string>() is { } base64
            ? JsonSerializer.Deserialize<Keyset>(Convert.FromBase64String(base64), Keyset.JsonOptions)
            : null;

    public static string? Condition(JsonObject? resource, string type) => ConditionField(resource, type, "status");

    public static string? ConditionReason(JsonObject? resource, string type) => ConditionField(resource, type, "reason");

    public static string? ConditionMessage(JsonObject? resource, string type) => ConditionField(resource, type, "message");

    private static string? ConditionField(JsonObject? resource, string type, string field) =>
        resource?["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == type)?[field]?.GetValue<string>();

    public static string? Status(JsonObject? resource, string field) => resource?["status"]?[field]?.ToString();
}
