using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Hosting;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// The contract between the chart and the code: every configuration variable the chart gives a service container (or
/// its migration Job) is a key that service reads — a property under an options class's <c>Section</c>, or one of
/// <see cref="ConfigurationKeys.Direct"/>. A misspelt variable would otherwise be ignored in silence and the default
/// used. The services' options classes are read from their build output without loading them (MetadataLoadContext).
/// </summary>
public sealed class ConfigurationKeysTests
{
    private static readonly string[] Services = ["auth", "tasks", "files", "gateway"];

    [Fact]
    public async Task Every_variable_the_chart_sets_for_a_service_is_a_key_that_service_reads()
    {
        // Every optional variable on: an external data tier with CAs, an SMTP relay with credentials, CORS, rate limits,
        // files' content volume, and the event stream both on (its settings) and off (its switch).
        string[] everything =
        [
            "--set", "global.imageRegistry=registry.example.com/team", "-f", Path.Combine(Repo.PlatformChart, "values-external-datatier.yaml"),
            "--set", "auth.smtp.host=smtp.example.org", "--set", "auth.smtp.existingSecret=platform-smtp",
            "--set", "edge.corsOrigins={https://app.example.org}",
            "--set", "edge.rateLimits.user.limit=100", "--set", "edge.rateLimits.user.windowSeconds=60", "--set", "edge.rateLimits.user.burst=10",
            "--set", "files.contentVolume.enabled=true",
        ];
        var variables = Variables(await Helm.TemplateAsync(Repo.PlatformChart, everything))
            .Concat(Variables(await Helm.TemplateAsync(Repo.PlatformChart, [.. everything, "--set", "eventStream.enabled=false"])))
            .Distinct().ToList();
        using var code = new ServiceCode();

        var unread = variables.Where(v => !code.Reads(v.Service, v.Key)).Select(v => $"{v.Service}: {v.Key}").ToList();

        Assert.Empty(unread);
        Assert.All(Services, service => Assert.Contains(variables, v => v.Service == service)); // each was looked at
        Assert.Contains(variables, v => v.Key == "Mail:Password");
        Assert.Contains(variables, v => v.Key == "EventStream:Enabled");
        Assert.Contains(variables, v => v.Key == "Postgres:CaCertificate");
        Assert.Contains(variables, v => v.Key == "Postgres:ServiceRolePassword");
        Assert.Contains(variables, v => v.Key == "Files:ContentDirectory");
    }

    [Fact]
    public void A_misspelt_key_or_another_services_key_is_not_read()
    {
        using var code = new ServiceCode();

        Assert.True(code.Reads("gateway", "EventStream:MaxStreamsPerUser"));
        Assert.False(code.Reads("gateway", "EventStream:MaxStreamPerUser"));
        Assert.True(code.Reads("gateway", "RateLimiting:Policies:login:Burst"));
        Assert.False(code.Reads("gateway", "RateLimiting:Policies:login:Bursts"));
        Assert.True(code.Reads("gateway", "Edge:CorsOrigins:0"));
        Assert.True(code.Reads("auth", "Mail:Host"));
        Assert.False(code.Reads("tasks", "Mail:Host"));
        Assert.True(code.Reads("tasks", "ReadRouting:ReadYourWritesSeconds")); // the libraries' options count for everyone
        Assert.True(code.Reads("files", "ConnectionStrings:PostgresReplica"));
        Assert.False(code.Reads("files", "ConnectionStrings:Postgress"));
        // Direct keys count only for the services whose code reads them: no credential to a store a service never uses.
        Assert.False(code.Reads("gateway", "ConnectionStrings:Postgres"));
        Assert.False(code.Reads("gateway", "Postgres:Password"));
        Assert.False(code.Reads("tasks", "ForwardedHeaders:TrustedNetworks:0"));
        Assert.True(code.Reads("auth", "ForwardedHeaders:TrustedNetworks:0"));
        Assert.True(code.Reads("gateway", "ReverseProxy:Clusters:tasks:Destinations:d1:Address"));
        Assert.False(code.Reads("tasks", "ReverseProxy:Clusters:tasks:Destinations:d1:Address"));
        Assert.True(code.Reads("tasks", "Kestrel:Endpoints:h2c:Url"));
        Assert.True(code.Reads("gateway", "ConnectionStrings:Redis"));
        Assert.True(code.Reads("auth", "Postgres:ServiceRoleConnectionLimit"));
    }

    /// <summary>(service, key) of each <c>A__B</c> variable of the services' containers and migration Jobs.</summary>
    private static IEnumerable<(string Service, string Key)> Variables(IReadOnlyList<JsonNode> manifests) =>
        from workload in manifests.OfKind("Deployment").Concat(manifests.OfKind("Job"))
        from container in workload["spec"]!["template"]!["spec"]!["containers"]!.AsArray()
        let service = (string)workload["kind"]! == "Job" ? workload.Name()["platform-".Length..].Split('-')[0] : (string)container!["name"]!
        where Services.Contains(service)
        from variable in container!["env"]?.AsArray() ?? []
        let name = (string)variable!["name"]!
        where name.Contains("__", StringComparison.Ordinal)
        select (service, name.Replace("__", ":", StringComparison.Ordinal));

    /// <summary>
    /// What each service's code binds: its own assembly's options classes, the platform libraries', and the direct keys
    /// its assemblies name. A direct key is read where code names it, and a constant's text is compiled into the code
    /// that uses it (the string heap of that assembly), so a service reads the direct keys whose text is in one of its
    /// assemblies — not in Platform.Hosting, whose list of them names every one. YARP's keys are read under the
    /// section the gateway hands YARP ("ReverseProxy"), Kestrel's by ASP.NET Core in every service.
    /// </summary>
    private sealed class ServiceCode : IDisposable
    {
        private const string DefiningAssembly = "Platform.Hosting";

        private readonly List<MetadataLoadContext> contexts = [];
        private readonly Dictionary<string, List<(string Section, Type Options)>> sections = [];
        private readonly Dictionary<string, HashSet<string>> strings = [];

        public ServiceCode()
        {
            var runtime = RuntimeEnvironment.GetRuntimeDirectory();
            var aspNet = Directory.GetDirectories(Path.GetFullPath(Path.Combine(runtime, "..", "..", "Microsoft.AspNetCore.App")))
                .OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version()).First();
            string[] frameworks = [.. Directory.GetFiles(runtime, "*.dll"), .. Directory.GetFiles(aspNet, "*.dll")];
            foreach (var service in Services)
            {
                var project = "Platform." + char.ToUpperInvariant(service[0]) + service[1..];
                var path = RepoPaths.Assembly("services", project);
                var context = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.dll").Concat(frameworks)));
                contexts.Add(context);
                // The service's own assembly and the libraries of ours its deps.json names (Platform.Data, Platform.Broker, ...),
                // not whatever Platform.*.dll an older build left in the folder.
                var libraries = DepsJson.Libraries("services", project, projectsOnly: true).ToList();
                sections[service] = [.. libraries
                    .Select(name => context.LoadFromAssemblyPath(Path.Combine(Path.GetDirectoryName(path)!, name + ".dll"))).SelectMany(OptionsOf)];
                strings[service] = [.. libraries.Where(name => name != DefiningAssembly)
                    .SelectMany(name => StringsOf(Path.Combine(Path.GetDirectoryName(path)!, name + ".dll")))];
            }
        }

        public bool Reads(string service, string key)
        {
            var segments = key.Split(':');
            return ConfigurationKeys.Direct.Any(pattern => Matches(pattern.Split(':'), segments) && Names(service, pattern))
                || sections[service].Any(s => Same(s.Section, segments[0]) && Binds(s.Options, segments.AsSpan(1)));
        }

        /// <summary>Whether the service's code reads the direct key <paramref name="pattern"/>.</summary>
        private bool Names(string service, string pattern) => pattern.Split(':')[0] switch
        {
            "Kestrel" => true,
            "Shutdown" => true, // read by ServiceDefaults (Platform.Hosting), which every service runs
            "ReverseProxy" => strings[service].Contains("ReverseProxy"),
            _ => strings[service].Contains(pattern.EndsWith(":*", StringComparison.Ordinal) ? pattern[..^2] : pattern),
        };

        /// <summary>The string literals of an assembly's code (its #US heap).</summary>
        private static List<string> StringsOf(string path)
        {
            using var file = File.OpenRead(path);
            using var pe = new System.Reflection.PortableExecutable.PEReader(file);
            var reader = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            var found = new List<string>();
            for (var handle = System.Reflection.Metadata.Ecma335.MetadataTokens.UserStringHandle(1); !handle.IsNil; handle = System.Reflection.Metadata.Ecma335.MetadataReaderExtensions.GetNextHandle(reader, handle))
            {
                found.Add(reader.GetUserString(handle));
            }
            return found;
        }

        public void Dispose()
        {
            foreach (var context in contexts)
            {
                context.Dispose();
            }
        }

        private static IEnumerable<(string, Type)> OptionsOf(Assembly assembly)
        {
            Type[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException e)
            {
                types = [.. e.Types.OfType<Type>()];
            }
            foreach (var type in types)
            {
                if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string section)
                {
                    yield return (section, type);
                }
            }
        }

        /// <summary>Whether the configuration binder would put the value at <paramref name="path"/> into a <paramref name="type"/>.</summary>
        private static bool Binds(Type type, ReadOnlySpan<string> path)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1")
            {
                type = type.GetGenericArguments()[0];
            }
            if (IsScalar(type))
            {
                return path.IsEmpty;
            }
            if (path.IsEmpty)
            {
                return false;
            }
            if (type.IsArray)
            {
                return int.TryParse(path[0], out _) && Binds(type.GetElementType()!, path[1..]);
            }
            if (type.IsGenericType)
            {
                var definition = type.GetGenericTypeDefinition().FullName!;
                var arguments = type.GetGenericArguments();
                if (definition.Contains("Dictionary`2", StringComparison.Ordinal))
                {
                    return Binds(arguments[1], path[1..]);
                }
                if (definition is "System.Collections.Generic.List`1" or "System.Collections.Generic.IList`1" or "System.Collections.Generic.IReadOnlyList`1"
                    or "System.Collections.Generic.ICollection`1" or "System.Collections.Generic.IEnumerable`1" or "System.Collections.Generic.HashSet`1"
                    or "System.Collections.Generic.ISet`1")
                {
                    return int.TryParse(path[0], out _) && Binds(arguments[0], path[1..]);
                }
            }
            var segment = path[0];
            var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(p => Same(p.Name, segment));
            return property is not null && Binds(property.PropertyType, path[1..]);
        }

        private static bool IsScalar(Type type) =>
            type.IsPrimitive || type.IsEnum || type.FullName is "System.String" or "System.TimeSpan" or "System.Uri" or "System.Decimal"
                or "System.DateTime" or "System.DateTimeOffset" or "System.Guid";

        private static bool Matches(string[] pattern, string[] segments) =>
            pattern.Length == segments.Length && pattern.Zip(segments).All(p => p.First == "*" || Same(p.First, p.Second));

        private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
    }
}
