using System.Text.Json;
using System.Xml.Linq;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>
/// What each process ships, read from its build output's deps.json (the packages the runtime will load), and the
/// libraries' references (docs/architecture.md §1.5): a part that needs no database does not carry a database client.
/// </summary>
public sealed class ProjectGraphTests
{
    private static readonly string[] DataClients = ["Npgsql", "Microsoft.EntityFrameworkCore", "RabbitMQ.Client", "StackExchange.Redis"];

    [Fact]
    public void The_operator_ships_no_database_broker_or_cache_client()
    {
        var packages = Packages("operator", "Platform.Operator");

        Assert.Contains(packages, p => p == "Platform.Contracts");
        Assert.DoesNotContain(packages, p => DataClients.Any(client => p.StartsWith(client, StringComparison.Ordinal)));
    }

    [Fact]
    public void The_gateway_ships_no_postgresql_client()
    {
        var packages = Packages("services", "Platform.Gateway");

        Assert.Contains(packages, p => p == "RabbitMQ.Client");
        Assert.DoesNotContain(packages, p => p.StartsWith("Npgsql", StringComparison.Ordinal) || p.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
    }

    [Fact]
    public void The_libraries_references_point_from_the_specific_to_the_general()
    {
        var references = Directory.GetDirectories(Path.Combine(RepoPaths.Root, "libraries"))
            .ToDictionary(d => Path.GetFileName(d), d => XDocument.Load(Path.Combine(d, Path.GetFileName(d) + ".csproj"))
                .Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/'))).ToHashSet());

        Assert.Empty(references["Platform.Contracts"]);
        Assert.Empty(references["Platform.Hosting"]);
        // Every library stands on Hosting (directly or through another), and none on a service, the operator or a test.
        Assert.All(references.Where(r => r.Key is not ("Platform.Contracts" or "Platform.Hosting")),
            r => Assert.Contains("Platform.Hosting", Closure(references, r.Key)));
        Assert.All(references.Values.SelectMany(r => r), r => Assert.True(references.ContainsKey(r), $"{r} is not a library"));
    }

    private static HashSet<string> Closure(Dictionary<string, HashSet<string>> references, string project)
    {
        var seen = new HashSet<string>();
        var next = new Stack<string>(references[project]);
        while (next.TryPop(out var reference))
        {
            if (seen.Add(reference))
            {
                foreach (var further in references[reference])
                {
                    next.Push(further);
                }
            }
        }
        return seen;
    }

    // The "libraries" of the build output's deps.json: every package and project the process loads, by name.
    private static List<string> Packages(string folder, string project)
    {
        var depsJson = Path.ChangeExtension(RepoPaths.Assembly(folder, project), ".deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsJson));
        return [.. deps.RootElement.GetProperty("libraries").EnumerateObject().Select(library => library.Name.Split('/')[0])];
    }
}
