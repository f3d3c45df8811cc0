using System.Text.Json.Nodes;

namespace Platform.Deploy.Tests;

/// <summary>
/// values.schema.json is what `helm install` checks the merged values against: every values file we ship must
/// pass it, and a table of mistakes must not.
/// </summary>
public sealed class ValuesSchemaTests
{
    public static TheoryData<string, string> ValuesFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var chart in Repo.Charts)
        {
            foreach (var file in Directory.GetFiles(chart, "values*.yaml").Order())
            {
                data.Add(Path.GetFileName(chart), Path.GetFileName(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ValuesFiles))]
    public void Every_values_file_merged_over_the_defaults_validates_against_the_chart_schema(string chart, string file)
    {
        var values = ValuesWith(chart, File.ReadAllText(Path.Combine(Repo.Path("charts", chart), file)));

        Assert.Empty(Schemas.Violations(Schema(chart), values));
    }

    [Fact]
    public void Both_charts_ship_a_values_file_for_kind_and_the_platform_one_for_an_external_data_tier()
    {
        var files = ValuesFiles().Select(row => $"{row[0]}/{row[1]}").ToList();

        Assert.Contains("platform/values-kind.yaml", files);
        Assert.Contains("platform/values-external-datatier.yaml", files);
        Assert.Contains("platform-operator/values-kind.yaml", files);
    }

    public static TheoryData<string, string, string> BadValues() => new()
    {
        { "platform", "replicas: 3", "an unknown top-level key" },
        { "platform", "global: {imageRegistry: \"https://registry.example.com\"}", "an image registry written as a URL" },
        { "platform", "global: {imageRegistry: registry.example.com/team/}", "an image registry with a trailing slash" },
        { "platform", "global: {localImages: \"yes\"}", "a string for the local-images flag" },
        { "platform", "gateway: {replica: 3}", "an unknown key of a service" },
        { "platform", "ingress: {hostName: x.example.com}", "an unknown key of the ingress (misspelt)" },
        { "platform", "gateway: {replicaCount: two}", "a string for an integer" },
        { "platform", "auth: {replicaCount: 0}", "replicas below the minimum" },
        { "platform", "networkPolicy: {enabled: \"yes\"}", "a string for a boolean" },
        { "platform", "networkPolicy: {externalDataTier: {postgresql: [db.example.com]}}", "an external data store's network given as a host name" },
        { "platform", "tasks: {image: {pullPolicy: Sometimes}}", "an image pull policy outside the enum" },
        { "platform", "files: {service: {port: 70000}}", "a port above 65535" },
        { "platform", "files: {service: {type: Ingress}}", "a Service type outside the enum" },
        { "platform", "gateway: {image: {digest: latest}}", "a digest that is not sha256:<64 hex>" },
        { "platform", "ingress: {pathType: Regex}", "an Ingress path type outside the enum" },
        { "platform", "ingress: {paths: [api]}", "an Ingress path not starting with /" },
        { "platform", "redis: {nodeSelector: {disktype: 1}}", "a node selector value that is not a string" },
        // A budget of 0 or 0% passes the schema only to be refused at render, where the message can say why (ServiceChartTests).
        { "platform", "postgresql: {readReplicas: {pdb: {maxUnavailable: -1}}}", "a negative replicas' budget" },
        { "platform", "gateway: {pdb: {maxUnavailable: \"1\"}}", "a budget neither a number nor a percentage" },
        { "platform", "rabbitmq: {tolerations: {key: pool}}", "tolerations given as one object, not a list" },
        { "platform", "ingress: {paths: []}", "an Ingress without any path" },
        { "platform", "edge: {trustedProxies: [ingress-nginx]}", "a trusted proxy that is not a CIDR network" },
        { "platform", "edge: {corsOrigins: [https://app.example.com/path]}", "a CORS origin with a path" },
        { "platform", "edge: {rateLimits: {login: {limit: 0}}}", "a rate limit of zero" },
        { "platform", "edge: {rateLimits: {login: {perMinute: 10}}}", "an unknown key of a rate-limit override" },
        { "platform", "config: {issuer: platform.example.com}", "an issuer that is not an http(s) URL" },
        { "platform", "signingKeys: {rotation: {algorithm: HS256}}", "a symmetric signing algorithm" },
        { "platform", "signingKeys: {rotation: {rotationPeriod: 30 days}}", "a duration Kubernetes cannot parse" },
        { "platform", "signingKeys: {rotation: {emergency: \"false\"}}", "a string for the emergency flag" },
        { "platform", "scalingPolicy: {targetRps: 0}", "a target of zero RPS" },
        { "platform", "scalingPolicy: {headroomPercent: -5}", "negative headroom" },
        { "platform", "scalingPolicy: {services: {tasks: {share: 1.5}}}", "a share above 1" },
        { "platform", "scalingPolicy: {services: {files: {rpsPerPod: 0}}}", "a capacity of zero RPS per pod" },
        { "platform", "scalingPolicy: {services: {auth: {cpuTargetPercent: 150}}}", "a CPU target above 100 %" },
        { "platform", "scalingPolicy: {services: {gateway: {minReplicas: 0}}}", "an HPA minimum of zero" },
        { "platform", "scalingPolicy: {services: {billing: {share: 0.1, rpsPerPod: 1, minReplicas: 1, maxReplicas: 1, cpuTargetPercent: 50}}}", "a service the platform does not have" },
        { "platform", "forwardAuth: {ingresses: [{name: grafana, host: grafana.example.com}]}", "a protected Ingress without its backend service" },
        { "platform", "forwardAuth: {ingresses: [{name: Grafana_UI, host: g.example.com, service: {name: grafana, port: 80}}]}", "a protected Ingress name that is not a DNS label" },
        { "platform", "postgresql: {enabled: false}", "an external PostgreSQL without host and Secret" },
        { "platform", "redis: {enabled: false, persistence: {size: 2Gi}}\nexternalRedis: {host: redis.example.com}", "an external Redis without its Secret" },
        { "platform", "postgresql: {readReplicas: {replicaCount: -1}}", "a negative number of read replicas" },
        { "platform", "postgresql: {serviceRoles: {enabled: \"no\"}}", "a string for the service-roles switch" },
        { "platform", "postgresql: {serviceRole: {enabled: false}}", "an unknown key of PostgreSQL (the service-roles switch misspelt)" },
        { "platform", "redis: {persistence: {size: lots}}", "a volume size that is not a quantity" },
        { "platform", "metrics: {serviceMonitor: {interval: often}}", "a scrape interval that is not a duration" },
        { "platform", "files: {contentVolume: {enable: true}}", "an unknown key of the files content volume (misspelt)" },
        { "platform", "files: {contentVolume: {accessModes: [RWX]}}", "an access mode Kubernetes does not have" },
        { "platform", "files: {contentVolume: {accessModes: []}}", "a content volume without an access mode" },
        { "platform", "files: {contentVolume: {size: lots}}", "a content volume size that is not a quantity" },
        { "platform-operator", "leaderElection: {enabled: false}", "an unknown top-level key" },
        { "platform-operator", "replicaCount: 0", "no operator replica" },
        { "platform-operator", "image: {pullPolicy: sometimes}", "an image pull policy outside the enum" },
        { "platform-operator", "pdb: {create: true, maxUnavailable: 0}", "a PDB that never lets a pod go" },
        { "platform-operator", "pdb: {create: true, minAvailable: 1}", "minAvailable, which blocks drains at one replica" },
        { "platform-operator", "networkPolicy: {enabled: true, apiServer: {cidrs: [kubernetes.default]}}", "an API server address that is not a CIDR" },
        { "platform-operator", "metrics: {service: {port: \"8080\"}}", "a string for the metrics port" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void The_schema_rejects(string chart, string overrides, string mistake)
    {
        var violations = Schemas.Violations(Schema(chart), ValuesWith(chart, overrides));

        Assert.True(violations.Count > 0, $"{chart}: {mistake} ({overrides}) was accepted");
    }

    public static TheoryData<string, string> GoodValues() => new()
    {
        { "platform", "global: {imageRegistry: \"localhost:5000/platform\"}" },
        { "platform", "forwardAuth: {ingresses: [{name: grafana, host: grafana.example.com, service: {name: grafana, port: 80}, tlsSecretName: grafana-tls}]}" },
        { "platform", "edge: {trustedProxies: [10.244.0.0/16], corsOrigins: [\"https://app.example.com\"], rateLimits: {user: {limit: 12000, burst: 2000}}}" },
        { "platform", "postgresql: {enabled: false}\nexternalPostgresql: {host: db.example.com, existingSecret: db}" },
        { "platform", "postgresql: {enabled: false}\nexternalPostgresql: {host: db.example.com, existingSecret: db}\nnetworkPolicy: {externalDataTier: {postgresql: [10.10.0.0/24, \"fd00::/64\"]}}" },
        { "platform", "signingKeys: {rotation: {algorithm: PS256, rotationPeriod: 168h, prePublish: 10m30s, rotateNow: \"2026-11-26\"}}" },
        { "platform", "scalingPolicy: {services: {tasks: {share: 0.5, rpsPerPod: 1200.5, rpsMetric: http_requests_per_second, scaleUp: {stabilizationWindowSeconds: 0}}}}" },
        { "platform", "gateway: {image: {digest: \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}, pdb: {maxUnavailable: \"50%\"}}" },
        { "platform", "files: {contentVolume: {enabled: true, storageClassName: efs-sc, accessModes: [ReadWriteMany], size: 1Ti}}" },
        { "platform", "postgresql: {serviceRoles: {enabled: false}}" },
        { "platform-operator", "replicaCount: 3\nextraEnv: [{name: Operator__ResyncSeconds, value: \"300\"}]" },
    };

    /// <summary>The control group of the table above: close variations that are right must pass.</summary>
    [Theory]
    [MemberData(nameof(GoodValues))]
    public void The_schema_accepts(string chart, string overrides)
    {
        Assert.Empty(Schemas.Violations(Schema(chart), ValuesWith(chart, overrides)));
    }

    private static Json.Schema.JsonSchema Schema(string chart) => Schemas.FromFile(Path.Combine(Repo.Path("charts", chart), "values.schema.json"));

    private static JsonNode? ValuesWith(string chart, string overrides) =>
        YamlNodes.MergeValues(YamlNodes.LoadFile(Path.Combine(Repo.Path("charts", chart), "values.yaml")), YamlNodes.Load(overrides));
}
