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
    public void The_libraries_reference_each_other_as_the_architecture_says()
    {
        // docs/architecture.md §1.5: layers without cycles, the general (Contracts, Hosting) referencing nothing of ours.
        var expected = new Dictionary<string, string[]>
        {
            ["Platform.Contracts"] = [],
            ["Platform.Hosting"] = [],
            ["Platform.Api"] = ["Platform.Hosting"],
            ["Platform.Redis"] = ["Platform.Hosting"],
            ["Platform.Broker"] = ["Platform.Hosting"],
            ["Platform.Authentication"] = ["Platform.Hosting", "Platform.Redis"],
            ["Platform.Data"] = ["Platform.Hosting", "Platform.Redis"],
            ["Platform.Messaging"] = ["Platform.Broker", "Platform.Contracts", "Platform.Data"],
        };

        var actual = Directory.GetDirectories(Path.Combine(RepoPaths.Root, "libraries")).ToDictionary(
            d => Path.GetFileName(d),
            d => XDocument.Load(Path.Combine(d, Path.GetFileName(d) + ".csproj")).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/'))).Order(StringComparer.Ordinal).ToArray());

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, e => Assert.Equal(e.Value.Order(StringComparer.Ordinal), actual[e.Key]));
    }

    [Theory]
    [InlineData("Platform.Contracts")]
    [InlineData("Platform.Hosting")]
    public void The_general_libraries_ship_no_database_broker_or_cache_client(string library)
    {
        var packages = Packages("libraries", library);

        Assert.Contains(packages, p => p == library);
        Assert.DoesNotContain(packages, p => DataClients.Any(client => p.StartsWith(client, StringComparison.Ordinal)));
    }

    private static List<string> Packages(string folder, string project) => DepsJson.Libraries(folder, project);
}
