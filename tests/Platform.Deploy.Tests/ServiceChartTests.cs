using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// What a real cluster needs of the services' part of the platform chart: images someone can pull, release-scoped
/// selectors, objects only for APIs the cluster serves, and network policies that say where each pod may connect.
/// </summary>
public sealed partial class ServiceChartTests
{
    private const string PushedTo = "registry.example.com/team";

    private static readonly string[] Services = ["gateway", "auth", "tasks", "files"];

    [Fact]
    public async Task Without_a_registry_the_render_fails_and_says_how_to_publish_the_images()
    {
        var result = await RenderAsync("platform");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("set global.imageRegistry to the registry you pushed with `make push REGISTRY=…`", result.Output, StringComparison.Ordinal);
        Assert.Contains("values-kind.yaml", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Global_image_registry_names_the_services_registry_once_and_leaves_the_data_tier_on_docker_hub()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo);
        var images = ContainerImages(manifests);

        foreach (var service in Services)
        {
            Assert.Equal($"{PushedTo}/platform-{service}:0.1.0", images[$"Deployment/platform-{service}"]);
        }
        Assert.All(manifests.OfKind("Job"), job => Assert.StartsWith(PushedTo + "/platform-", images["Job/" + job.Name()], StringComparison.Ordinal));
        Assert.Equal($"docker.io/library/postgres:{DataTierTag("postgresql")}", images["StatefulSet/platform-postgresql"]);
        Assert.Equal($"docker.io/library/redis:{DataTierTag("redis")}", images["StatefulSet/platform-redis"]);
    }

    [Fact]
    public async Task Global_image_tag_tags_the_services_images_unless_one_names_its_own()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", "global.imageTag=abc1234", "--set", "files.image.tag=hotfix");
        var images = ContainerImages(manifests);

        Assert.Equal($"{PushedTo}/platform-gateway:abc1234", images["Deployment/platform-gateway"]);
        Assert.Equal($"{PushedTo}/platform-auth:abc1234", images["Job/platform-auth-migrate-install"]);
        Assert.Equal($"{PushedTo}/platform-files:hotfix", images["Deployment/platform-files"]);
        Assert.Equal($"docker.io/library/postgres:{DataTierTag("postgresql")}", images["StatefulSet/platform-postgresql"]);
    }

    [Fact]
    public async Task Kind_values_use_the_images_make_deploy_loads_into_the_nodes_without_a_registry()
    {
        var manifests = await TemplateAsync("platform", "-f", Path.Combine(Repo.PlatformChart, "values-kind.yaml"));
        var images = ContainerImages(manifests);

        Assert.All(Services, service => Assert.Equal($"platform-{service}:dev", images[$"Deployment/platform-{service}"]));
    }

    [Fact]
    public async Task The_external_data_tier_example_renders_with_a_registry()
    {
        var manifests = await TemplateAsync("platform", "-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"), "--set", "global.imageRegistry=" + PushedTo);

        Assert.Equal(4, manifests.OfKind("Deployment").Count());
    }

    [Fact]
    public async Task Skaffolds_values_render_the_images_it_built_without_a_registry()
    {
        var release = YamlNodes.LoadFile(Repo.Path("skaffold.yaml"))!["deploy"]!["helm"]!["releases"]!.AsArray()
            .Single(r => (string)r!["chartPath"]! == "charts/platform")!;
        var digest = "sha256:" + new string('0', 64);
        var settings = new[] { release["setValues"], release["setValueTemplates"] }
            .SelectMany(values => values?.AsObject() ?? [])
            .Select(entry => $"{entry.Key}={SkaffoldImageVariable().Replace(ValueText(entry.Value), match => match.Groups["kind"].Value switch
            {
                "REPO" => match.Groups["image"].Value.Replace('_', '-'),
                "TAG" => "abc1234",
                _ => digest,
            })}");

        var manifests = await TemplateAsync("platform", [.. settings.SelectMany(setting => new[] { "--set", setting })]);
        var images = ContainerImages(manifests);

        Assert.All(Services, service => Assert.Equal($"platform-{service}:abc1234@{digest}", images[$"Deployment/platform-{service}"]));
    }

    [Fact]
    public async Task Make_push_without_REGISTRY_fails_before_building_anything()
    {
        var result = await ShellCommand.RunAsync("make", ["push"], new Dictionary<string, string> { ["REGISTRY"] = "" }, TimeSpan.FromMinutes(1));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("set REGISTRY to the registry to push to", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Make_push_tags_and_pushes_the_five_images_under_the_charts_app_version_or_the_tag_given()
    {
        var fakeDocker = Directory.CreateTempSubdirectory("fake-docker-");
        try
        {
            var log = Path.Combine(fakeDocker.FullName, "calls");
            var docker = Path.Combine(fakeDocker.FullName, "docker");
            await File.WriteAllTextAsync(docker, $"#!/bin/sh\necho \"$*\" >> '{log}'\n");
            File.SetUnixFileMode(docker, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var path = fakeDocker.FullName + ":" + Environment.GetEnvironmentVariable("PATH");

            string[] images = ["gateway", "auth", "tasks", "files", "operator"];

            foreach (var (arguments, tag) in new[] { (Array.Empty<string>(), "0.1.0"), (["PUSH_TAG=abc1234"], "abc1234") })
            {
                File.Delete(log);
                var result = await ShellCommand.RunAsync("make", ["push", "REGISTRY=" + PushedTo, "IMAGE_TAG=local", .. arguments], new Dictionary<string, string> { ["PATH"] = path }, TimeSpan.FromMinutes(1));

                Assert.True(result.ExitCode == 0, result.Output);
                Assert.Contains($"--set global.imageRegistry={PushedTo} --set global.imageTag={tag}", result.Output, StringComparison.Ordinal);
                var calls = (await File.ReadAllLinesAsync(log)).Where(call => !call.StartsWith("info", StringComparison.Ordinal)).ToList();
                Assert.Equal(images.Select(image => $"platform-{image}:local"), calls.Where(c => c.StartsWith("build ", StringComparison.Ordinal)).Select(c => c.Split(' ')[^2]));
                Assert.Equal(images.Select(image => $"tag platform-{image}:local {PushedTo}/platform-{image}:{tag}"), calls.Where(c => c.StartsWith("tag ", StringComparison.Ordinal)));
                Assert.Equal(images.Select(image => $"push {PushedTo}/platform-{image}:{tag}"), calls.Where(c => c.StartsWith("push ", StringComparison.Ordinal)));
            }
        }
        finally
        {
            fakeDocker.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ServiceMonitors_are_rendered_only_for_a_cluster_that_serves_the_prometheus_operator_api()
    {
        string[] enabled = ["--set", "global.imageRegistry=" + PushedTo, "--set", "metrics.serviceMonitor.enabled=true"];

        var withoutTheApi = await TemplateAsync("platform", enabled);
        var withTheApi = await TemplateAsync("platform", [.. enabled, "--api-versions", "monitoring.coreos.com/v1"]);
        var switchedOff = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--api-versions", "monitoring.coreos.com/v1");

        Assert.Empty(withoutTheApi.OfKind("ServiceMonitor"));
        Assert.Equal(["platform-auth", "platform-files", "platform-gateway", "platform-rabbitmq", "platform-tasks"], withTheApi.OfKind("ServiceMonitor").Select(m => m.Name()).Order());
        Assert.Empty(switchedOff.OfKind("ServiceMonitor"));
    }

    [Fact]
    public async Task Two_releases_in_one_namespace_never_select_each_others_pods_or_services()
    {
        string[] everything = ["--set", "global.imageRegistry=" + PushedTo, "--set", "metrics.serviceMonitor.enabled=true", "--api-versions", "monitoring.coreos.com/v1"];
        var alpha = await TemplateAsync("alpha", everything);
        var beta = await TemplateAsync("beta", everything);

        foreach (var (mine, theirs) in new[] { (alpha, beta), (beta, alpha) })
        {
            var theirPods = theirs.Select(PodLabels).OfType<JsonObject>().ToList();
            var theirServices = theirs.OfKind("Service").Select(s => s["metadata"]!["labels"]!.AsObject()).ToList();
            Assert.NotEmpty(theirPods);
            Assert.All(PodSelectors(mine), selector => Assert.DoesNotContain(theirPods, pod => Selects(selector.MatchLabels, pod)));
            Assert.All(mine.OfKind("ServiceMonitor"), monitor =>
                Assert.DoesNotContain(theirServices, service => Selects(monitor["spec"]!["selector"]!["matchLabels"]!.AsObject(), service)));
        }
        Assert.All(alpha.Where(m => (string?)m["kind"] is "Deployment" or "StatefulSet" or "Service" or "PodDisruptionBudget" or "NetworkPolicy"),
            manifest => Assert.Equal("alpha", (string?)(PodSelectors([manifest]).First().MatchLabels["app.kubernetes.io/instance"])));
    }

    private static readonly string[] Dns = ["kube-dns UDP/53", "kube-dns TCP/53"];

    /// <summary>The gateway's HTTP/2 to auth and tasks (edge.http2Upstreams, on by default).</summary>
    private static readonly string[] GatewayHttp2 = ["Deployment/platform-auth TCP/8081", "Deployment/platform-tasks TCP/8081"];

    private static readonly string[] BundledDataTier =
        ["StatefulSet/platform-postgresql TCP/5432", "StatefulSet/platform-postgresql-read TCP/5432", "StatefulSet/platform-redis TCP/6379", "StatefulSet/platform-rabbitmq TCP/5672"];

    public static TheoryData<string, string[]> BundledEgress() => new()
    {
        { "Deployment/platform-gateway", [.. Dns, "Deployment/platform-auth TCP/8080", "Deployment/platform-tasks TCP/8080", "Deployment/platform-files TCP/8080", .. GatewayHttp2, "StatefulSet/platform-redis TCP/6379", "StatefulSet/platform-rabbitmq TCP/5672"] },
        { "Deployment/platform-auth", [.. Dns, "Deployment/platform-auth TCP/8080", .. BundledDataTier] },
        { "Deployment/platform-tasks", [.. Dns, "Deployment/platform-auth TCP/8080", .. BundledDataTier] },
        { "Deployment/platform-files", [.. Dns, "Deployment/platform-auth TCP/8080", .. BundledDataTier] },
        { "Job/platform-auth-migrate-install", [.. Dns, "StatefulSet/platform-postgresql TCP/5432"] },
        { "Job/platform-tasks-migrate-install", [.. Dns, "StatefulSet/platform-postgresql TCP/5432"] },
        { "Job/platform-files-migrate-install", [.. Dns, "StatefulSet/platform-postgresql TCP/5432"] },
        { "StatefulSet/platform-postgresql", [.. Dns, "StatefulSet/platform-postgresql TCP/5432"] },
        { "StatefulSet/platform-postgresql-read", [.. Dns, "StatefulSet/platform-postgresql TCP/5432"] },
        { "StatefulSet/platform-redis", [.. Dns] },
        { "StatefulSet/platform-rabbitmq", [.. Dns] },
    };

    [Theory]
    [MemberData(nameof(BundledEgress))]
    public async Task Each_pod_may_connect_only_to_dns_and_what_it_uses(string workload, string[] allowed)
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo);

        Assert.Equal(allowed.Order(), AllowedEgress(manifests, workload).Order());
    }

    [Fact]
    public async Task External_data_stores_are_reached_on_their_port_by_the_networks_the_values_give()
    {
        // The example reaches RabbitMQ over amqps (5671) and names no networks for it: any address, that port only.
        var manifests = await TemplateAsync("platform", "-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"), "--set", "global.imageRegistry=" + PushedTo,
            "--set", "networkPolicy.externalDataTier.postgresql={10.10.0.0/24,10.10.1.0/24}", "--set", "networkPolicy.externalDataTier.redis={10.20.0.5/32}");

        string[] tasks = ["10.10.0.0/24 TCP/5432", "10.10.1.0/24 TCP/5432", "10.20.0.5/32 TCP/6379", "0.0.0.0/0 TCP/5671", "::/0 TCP/5671", "Deployment/platform-auth TCP/8080", .. Dns];
        string[] gateway = ["10.20.0.5/32 TCP/6379", "0.0.0.0/0 TCP/5671", "::/0 TCP/5671", "Deployment/platform-auth TCP/8080", "Deployment/platform-tasks TCP/8080", "Deployment/platform-files TCP/8080", .. GatewayHttp2, .. Dns];

        Assert.Equal(tasks.Order(), AllowedEgress(manifests, "Deployment/platform-tasks").Order());
        Assert.Equal(gateway.Order(), AllowedEgress(manifests, "Deployment/platform-gateway").Order());
    }

    /// <summary>
    /// Without a CPU limit .NET counts the node's cores, so auth would hash on every one of them during a login storm;
    /// the chart sizes the hashing slots by the pod's CPU request instead, and lets a value override it.
    /// </summary>
    [Theory]
    [InlineData(null, null, "1")]           // the chart's 500m
    [InlineData("2500m", null, "3")]
    [InlineData("2", null, "2")]
    [InlineData("0.25", null, "1")]
    [InlineData("1.5", null, "2")]
    [InlineData(null, "4", "4")]
    public async Task Auth_hashes_on_as_many_threads_as_its_pod_requests_cores(string? cpu, string? slots, string expected)
    {
        List<string> arguments = ["--set", "global.imageRegistry=" + PushedTo];
        if (cpu is not null)
        {
            arguments.AddRange(["--set-string", "auth.resources.requests.cpu=" + cpu]);
        }
        if (slots is not null)
        {
            arguments.AddRange(["--set", "auth.maxConcurrentHashes=" + slots]);
        }

        var manifests = await TemplateAsync("platform", [.. arguments]);

        Assert.Equal(expected, ContainerEnv(manifests, "platform-auth")["Passwords__MaxConcurrentHashes"]);
    }

    [Fact]
    public async Task The_gateway_reaches_auth_and_tasks_over_http2_at_every_ready_pod_and_nobody_else_may_use_that_port()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo);
        var gateway = ContainerEnv(manifests, "platform-gateway");

        foreach (var upstream in new[] { "auth", "tasks" })
        {
            var cluster = $"ReverseProxy__Clusters__{upstream}__";
            Assert.Equal(("2", "RequestVersionExact"), (gateway[cluster + "HttpRequest__Version"], gateway[cluster + "HttpRequest__VersionPolicy"]));
            // The address names a headless Service (its name resolves to every ready pod) of the upstream's pods, on a port
            // whose container endpoint speaks HTTP/2 only; 8080 stays HTTP/1.1 for probes, Prometheus and the JWKS.
            var address = new Uri(gateway[cluster + "Destinations__local__Address"]);
            var serviceName = address.Host.Split('.')[0];
            Assert.Equal($"{serviceName}.platform.svc.cluster.local", address.Host);
            var service = Assert.Single(manifests.OfKind("Service"), s => s.Name() == serviceName);
            Assert.Equal("None", (string?)service["spec"]!["clusterIP"]);
            var deployment = Assert.Single(manifests.OfKind("Deployment"), d => d.Name() == $"platform-{upstream}");
            Assert.True(Selects(service["spec"]!["selector"]!.AsObject(), PodLabels(deployment)!));
            var servicePort = Assert.Single(service["spec"]!["ports"]!.AsArray(), port => (long)port!["port"]! == address.Port)!;
            var containerPort = Assert.Single(PodSpec(deployment)!["containers"]![0]!["ports"]!.AsArray(),
                port => (string?)port!["name"] == (string?)servicePort["targetPort"])!;
            var upstreamEnv = ContainerEnv(manifests, $"platform-{upstream}");
            Assert.Equal(($"http://+:{containerPort["containerPort"]}", "Http2"), (upstreamEnv["Kestrel__Endpoints__H2c__Url"], upstreamEnv["Kestrel__Endpoints__H2c__Protocols"]));
            Assert.Equal("http://+:8080", upstreamEnv["Kestrel__Endpoints__Http__Url"]);
            Assert.Equal(["Deployment/platform-gateway"], AllowedIngress(manifests, $"Deployment/platform-{upstream}", (string)servicePort["targetPort"]!));
        }
        Assert.Equal("http://platform-files.platform.svc.cluster.local/", gateway["ReverseProxy__Clusters__files__Destinations__local__Address"]);
        Assert.DoesNotContain("ReverseProxy__Clusters__files__HttpRequest__Version", gateway.Keys);

        var off = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", "edge.http2Upstreams=false");
        Assert.DoesNotContain(off.OfKind("Service"), service => service.Name()!.EndsWith("-h2c", StringComparison.Ordinal));
        Assert.Equal("http://platform-tasks.platform.svc.cluster.local/", ContainerEnv(off, "platform-gateway")["ReverseProxy__Clusters__tasks__Destinations__local__Address"]);
        Assert.DoesNotContain(ContainerEnv(off, "platform-tasks").Keys, name => name.StartsWith("Kestrel__Endpoints", StringComparison.Ordinal));
        Assert.DoesNotContain("Deployment/platform-tasks TCP/8081", AllowedEgress(off, "Deployment/platform-gateway"));
    }

    [Fact]
    public async Task Auth_reaches_the_smtp_relay_on_its_port_only_when_one_is_configured()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", "auth.smtp.host=smtp.example.org");

        string[] relay = ["0.0.0.0/0 TCP/587", "::/0 TCP/587"];
        Assert.Equal(relay.Order(), AllowedEgress(manifests, "Deployment/platform-auth").Where(relay.Contains).Order());
        Assert.DoesNotContain("0.0.0.0/0 TCP/587", AllowedEgress(manifests, "Deployment/platform-tasks"));
    }

    [Fact]
    public async Task The_event_stream_path_has_its_own_ingress_with_long_timeouts_and_no_buffering_and_the_gateway_reaches_rabbitmq()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo);
        var events = Assert.Single(manifests.OfKind("Ingress"), ingress => ingress.Name() == "platform-gateway-events");
        var annotations = events["metadata"]!["annotations"]!;
        var path = Assert.Single(events["spec"]!["rules"]![0]!["http"]!["paths"]!.AsArray())!;
        var gateway = Assert.Single(manifests.OfKind("Deployment"), deployment => deployment.Name() == "platform-gateway");
        var env = gateway["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Select(variable => (string)variable!["name"]!).ToList();

        Assert.Equal(("/api/events", "Exact", "platform-gateway"), ((string)path["path"]!, (string)path["pathType"]!, (string)path["backend"]!["service"]!["name"]!));
        Assert.Equal("3600", (string)annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]!);
        Assert.Equal("3600", (string)annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]!);
        Assert.Equal("off", (string)annotations["nginx.ingress.kubernetes.io/proxy-buffering"]!);
        Assert.Contains("ConnectionStrings__RabbitMq", env);
        Assert.Contains("RabbitMq__Password", env);
        Assert.Contains("EventStream__KeepAliveSeconds", env);
        // Everything else keeps the controller's default timeouts.
        var main = Assert.Single(manifests.OfKind("Ingress"), ingress => ingress.Name() == "platform-gateway");
        Assert.Null(main["metadata"]!["annotations"]!["nginx.ingress.kubernetes.io/proxy-read-timeout"]);
    }

    [Fact]
    public async Task Without_the_event_stream_there_is_no_events_ingress_and_the_gateway_does_not_reach_rabbitmq()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", "eventStream.enabled=false");

        Assert.DoesNotContain(manifests.OfKind("Ingress"), ingress => ingress.Name() == "platform-gateway-events");
        Assert.DoesNotContain("StatefulSet/platform-rabbitmq TCP/5672", AllowedEgress(manifests, "Deployment/platform-gateway"));
    }

    [Fact]
    public async Task Make_deploy_installs_both_charts_with_the_tag_it_built_and_loaded()
    {
        var result = await ShellCommand.RunAsync("make", ["--dry-run", "deploy", "IMAGE_TAG=feature-x"], environment: null, TimeSpan.FromMinutes(1));
        var installs = result.Output.Split('\n').SkipWhile(line => !line.StartsWith("helm upgrade --install", StringComparison.Ordinal)).ToList();

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(2, installs.Count(line => line.StartsWith("helm upgrade --install", StringComparison.Ordinal)));
        Assert.Equal(2, installs.Count(line => line.Contains("--set global.imageTag=feature-x", StringComparison.Ordinal))); // operator, then platform
    }

    [Theory]
    [InlineData("gateway.pdb.maxUnavailable=0", "gateway.pdb")]
    [InlineData("auth.pdb.maxUnavailable=0%", "auth.pdb")]
    [InlineData("tasks.pdb.maxUnavailable=00%", "tasks.pdb")]
    [InlineData("files.pdb.maxUnavailable=0", "files.pdb")]
    [InlineData("postgresql.readReplicas.pdb.maxUnavailable=0", "postgresql.readReplicas.pdb")]
    [InlineData("postgresql.readReplicas.pdb.maxUnavailable=0%", "postgresql.readReplicas.pdb")]
    public async Task A_disruption_budget_that_lets_no_pod_go_is_refused_at_render_because_it_blocks_every_drain(string value, string budget)
    {
        var result = await RenderAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", value);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{budget}.maxUnavailable is 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("blocks every node drain", result.Output, StringComparison.Ordinal);
        Assert.Contains($"{budget}.create=false", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disruption_budgets_that_let_a_pod_go_render_as_given()
    {
        var manifests = await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", "gateway.pdb.maxUnavailable=10%",
            "--set", "auth.pdb.maxUnavailable=2", "--set", "postgresql.readReplicas.pdb.maxUnavailable=1");
        var budgets = manifests.OfKind("PodDisruptionBudget").ToDictionary(b => b.Name(), b => ValueText(b["spec"]!["maxUnavailable"]));

        Assert.Equal(("10%", "2", "1", "1"), (budgets["platform-gateway"], budgets["platform-auth"], budgets["platform-tasks"], budgets["platform-postgresql-read"]));
    }

    [Theory]
    [InlineData("auth", "auth.preStopSleepSeconds=45")] // the grace period, 45
    [InlineData("gateway", "gateway.preStopSleepSeconds=60")]
    [InlineData("files", "files.terminationGracePeriodSeconds=5")] // the sleep, 5
    public async Task A_prestop_sleep_that_lasts_the_whole_grace_period_is_refused_at_render(string service, string value)
    {
        var result = await RenderAsync("platform", "--set", "global.imageRegistry=" + PushedTo, "--set", value);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{service}.preStopSleepSeconds (", result.Output, StringComparison.Ordinal);
        Assert.Contains($"must be less than {service}.terminationGracePeriodSeconds", result.Output, StringComparison.Ordinal);
        Assert.Contains("kill the pod before SIGTERM lets it drain", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_service_pod_has_time_to_drain_after_its_prestop_sleep()
    {
        foreach (var arguments in new[] { new[] { "--set", "global.imageRegistry=" + PushedTo, "--set", "auth.preStopSleepSeconds=44" }, ["-f", Path.Combine(Repo.PlatformChart, "values-kind.yaml")] })
        {
            foreach (var deployment in (await TemplateAsync("platform", arguments)).OfKind("Deployment"))
            {
                var pod = PodSpec(deployment)!;
                var sleep = pod["containers"]![0]!["lifecycle"]!["preStop"]!["exec"]!["command"]!.AsArray().Select(c => (string)c!).ToList();
                Assert.Equal("sleep", sleep[0]);
                var (sleepSeconds, grace) = (int.Parse(sleep[1], System.Globalization.CultureInfo.InvariantCulture), (long)pod["terminationGracePeriodSeconds"]!);
                Assert.True(sleepSeconds < grace, deployment.Name());
                // The drain gets what the grace period leaves after the sleep, less 5 s to exit before SIGKILL.
                var drain = long.Parse((string)pod["containers"]![0]!["env"]!.AsArray().Single(v => (string)v!["name"]! == "Shutdown__TimeoutSeconds")!["value"]!,
                    System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(Math.Max(1, grace - sleepSeconds - 5), drain);
            }
        }
        var files = ContainerEnv(await TemplateAsync("platform", "--set", "global.imageRegistry=" + PushedTo), "platform-files");
        Assert.Equal("50", files["Shutdown__TimeoutSeconds"]); // 60 s of grace, 5 s of preStop: uploads in flight get 50 s, not 25
    }

    /// <summary>A data store's image tag as values.yaml pins it.</summary>
    private static string DataTierTag(string store) =>
        (string)YamlNodes.LoadFile(Path.Combine(Repo.PlatformChart, "values.yaml"))![store]!["image"]!["tag"]!;

    /// <summary>`helm template` of the platform chart under a release name, with helm's exit code and its output.</summary>
    private static Task<CommandResult> RenderAsync(string release, params string[] arguments) =>
        ShellCommand.RunAsync("helm", ["template", release, Repo.PlatformChart, "--namespace", "platform", .. arguments], environment: null, TimeSpan.FromMinutes(5));

    /// <summary>The rendered manifests (helm's standard output alone: its notices go to stderr).</summary>
    private static async Task<IReadOnlyList<JsonNode>> TemplateAsync(string release, params string[] arguments)
    {
        var result = (await RenderAsync(release, arguments)).EnsureSuccess($"helm template {release} {string.Join(' ', arguments)}");
        return [.. YamlNodes.LoadAll(result.StandardOutput).OfType<JsonNode>()];
    }

    /// <summary>
    /// Where the NetworkPolicies selecting a workload's pods let them connect, as "peer protocol/port": a peer is a
    /// workload of the release its selector matches, the cluster DNS, or a network. No policy restricting egress, a
    /// rule without a destination or without ports, or a peer matching nothing shows up as such, so it fails the comparison.
    /// </summary>
    private static List<string> AllowedEgress(IReadOnlyList<JsonNode> manifests, string workload)
    {
        var workloads = manifests.Where(m => PodLabels(m) is not null).ToDictionary(m => $"{m["kind"]}/{m.Name()}", m => PodLabels(m)!);
        var policies = manifests.OfKind("NetworkPolicy").Where(p => Selects(MatchLabels(p["spec"]!["podSelector"]!), workloads[workload])).ToList();
        if (!policies.Any(p => p["spec"]!["policyTypes"]!.AsArray().Any(t => (string?)t == "Egress")))
        {
            return ["no policy restricts egress"];
        }
        var allowed = new List<string>();
        foreach (var rule in policies.SelectMany(p => p["spec"]!["egress"]?.AsArray() ?? []))
        {
            var ports = rule!["ports"]?.AsArray().Select(port => $"{(string?)port!["protocol"] ?? "TCP"}/{port["port"]}").ToList() ?? ["any port"];
            var peers = rule["to"]?.AsArray().SelectMany(peer => peer switch
            {
                _ when peer!["ipBlock"] is { } block => [(string)block["cidr"]!],
                _ when peer["namespaceSelector"] is { } namespaces => [IsClusterDns(namespaces, peer["podSelector"]) ? "kube-dns" : "pods in " + namespaces.ToJsonString()],
                _ => workloads.Where(w => Selects(MatchLabels(peer["podSelector"]!), w.Value)).Select(w => w.Key).DefaultIfEmpty("no pod"),
            }).ToList() ?? ["anywhere"];
            allowed.AddRange(peers.SelectMany(peer => ports.Select(port => $"{peer} {port}")));
        }
        return allowed;
    }

    /// <summary>The workloads of the release the NetworkPolicies selecting a workload let in on one of its ports (by name).</summary>
    private static List<string> AllowedIngress(IReadOnlyList<JsonNode> manifests, string workload, string portName)
    {
        var workloads = manifests.Where(m => PodLabels(m) is not null).ToDictionary(m => $"{m["kind"]}/{m.Name()}", m => PodLabels(m)!);
        return manifests.OfKind("NetworkPolicy")
            .Where(p => Selects(MatchLabels(p["spec"]!["podSelector"]!), workloads[workload]))
            .SelectMany(p => p["spec"]!["ingress"]?.AsArray() ?? [])
            .Where(rule => rule!["ports"] is not { } ports || ports.AsArray().Any(port => (string?)port!["port"] == portName))
            .SelectMany(rule => rule!["from"]?.AsArray() ?? [JsonValue.Create("anywhere")])
            .SelectMany(peer => peer is JsonValue ? ["anywhere"]
                : peer!["podSelector"] is { } pods && peer["namespaceSelector"] is null
                    ? workloads.Where(w => Selects(MatchLabels(pods), w.Value)).Select(w => w.Key).DefaultIfEmpty("no pod")
                    : ["outside the namespace: " + peer.ToJsonString()])
            .Distinct()
            .ToList();
    }

    /// <summary>The plain values of a Deployment's first container's environment, by name.</summary>
    private static Dictionary<string, string> ContainerEnv(IReadOnlyList<JsonNode> manifests, string deployment) =>
        PodSpec(Assert.Single(manifests.OfKind("Deployment"), d => d.Name() == deployment))!["containers"]![0]!["env"]!.AsArray()
            .Where(variable => variable!["value"] is not null)
            .ToDictionary(variable => (string)variable!["name"]!, variable => ValueText(variable!["value"]));

    private static bool IsClusterDns(JsonNode namespaces, JsonNode? pods) =>
        (string?)namespaces["matchLabels"]?["kubernetes.io/metadata.name"] == "kube-system" && (string?)pods?["matchLabels"]?["k8s-app"] == "kube-dns";

    private static JsonObject? PodLabels(JsonNode manifest) => (string?)manifest["kind"] switch
    {
        "Deployment" or "StatefulSet" or "Job" => manifest["spec"]?["template"]?["metadata"]?["labels"]?.AsObject(),
        "Pod" => manifest["metadata"]?["labels"]?.AsObject(),
        _ => null,
    };

    /// <summary>
    /// Every label selector of pods in the release's own namespace, where it is: workloads, Services, PDBs, topology
    /// spread, and NetworkPolicies (their subject and their same-namespace peers; peers in other namespaces are not
    /// another release's pods).
    /// </summary>
    private static IEnumerable<(string Where, JsonObject MatchLabels)> PodSelectors(IEnumerable<JsonNode> manifests)
    {
        foreach (var manifest in manifests)
        {
            var where = $"{manifest["kind"]}/{manifest.Name()}";
            var spec = manifest["spec"];
            switch ((string?)manifest["kind"])
            {
                case "Deployment" or "StatefulSet" or "PodDisruptionBudget":
                    yield return (where, MatchLabels(spec!["selector"]!));
                    break;
                case "Service":
                    yield return (where, spec!["selector"]!.AsObject());
                    break;
                case "NetworkPolicy":
                    yield return (where, MatchLabels(spec!["podSelector"]!));
                    var rules = (spec["ingress"]?.AsArray() ?? []).Select(rule => rule!["from"]).Concat((spec["egress"]?.AsArray() ?? []).Select(rule => rule!["to"]));
                    foreach (var peer in rules.SelectMany(peers => peers?.AsArray() ?? []))
                    {
                        if (peer!["podSelector"] is { } podSelector && peer["namespaceSelector"] is null)
                        {
                            yield return (where + " peer", MatchLabels(podSelector));
                        }
                    }
                    break;
            }
            foreach (var spread in PodSpec(manifest)?["topologySpreadConstraints"]?.AsArray() ?? [])
            {
                yield return (where + " topology spread", MatchLabels(spread!["labelSelector"]!));
            }
        }
    }

    private static JsonObject MatchLabels(JsonNode selector)
    {
        Assert.Null(selector["matchExpressions"]);
        return selector["matchLabels"]?.AsObject() ?? [];
    }

    /// <summary>Whether matchLabels select the labels; an empty selector selects everything.</summary>
    private static bool Selects(JsonObject matchLabels, JsonObject labels) =>
        matchLabels.All(entry => labels.TryGetPropertyValue(entry.Key, out var value) && (string?)value == (string?)entry.Value);

    private static JsonObject? PodSpec(JsonNode manifest) => (string?)manifest["kind"] switch
    {
        "Deployment" or "StatefulSet" or "Job" => manifest["spec"]?["template"]?["spec"]?.AsObject(),
        "Pod" => manifest["spec"]?.AsObject(),
        _ => null,
    };

    /// <summary>The first container's image of every workload, by kind/name.</summary>
    private static Dictionary<string, string> ContainerImages(IEnumerable<JsonNode> manifests) =>
        manifests.Where(m => PodSpec(m) is not null)
            .ToDictionary(m => $"{m["kind"]}/{m.Name()}", m => (string)PodSpec(m)!["containers"]![0]!["image"]!);

    private static string ValueText(JsonNode? value) => value is JsonValue scalar ? scalar.ToString() : "";

    [GeneratedRegex(@"\{\{\.IMAGE_(?<kind>REPO|TAG|DIGEST)_(?<image>\w+)\}\}")]
    private static partial Regex SkaffoldImageVariable();
}
