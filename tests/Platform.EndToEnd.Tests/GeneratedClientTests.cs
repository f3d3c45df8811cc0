using Platform.Testing;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// A client developer's path: Kiota generates a C# client from the gateway's document, it compiles, and it completes
/// register → login → create task → read it against the running platform. The generated code lives only in the run
/// directory; the program that drives it is tests/kiota-client.
/// </summary>
[Collection(LocalPlatformCollection.Name)]
public sealed class GeneratedClientTests(EndToEndPlatform platform)
{
    [Fact]
    public async Task A_client_generated_by_kiota_registers_logs_in_and_creates_a_task()
    {
        var project = Path.Combine(platform.Tier.RunDirectory, "kiota-client");
        if (Directory.Exists(project))
        {
            Directory.Delete(project, recursive: true);
        }
        Directory.CreateDirectory(project);
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "tests", "kiota-client")))
        {
            File.Copy(file, Path.Combine(project, Path.GetFileName(file)));
        }
        var document = Path.Combine(project, "openapi.json");
        await File.WriteAllTextAsync(document, (await platform.ContractAsync()).Document.ToJsonString());

        var generate = await ShellCommand.RunAsync(ProjectTools.Kiota,
            ["generate", "--language", "CSharp", "--openapi", document, "--output", Path.Combine(project, "Generated"),
                "--class-name", "PlatformClient", "--namespace-name", "Platform.Client", "--exclude-backward-compatible", "--clean-output"],
            environment: null, TimeSpan.FromMinutes(2));
        Assert.True(generate.ExitCode == 0, generate.Output);
        var run = await ShellCommand.RunAsync("dotnet", ["run", "--project", project, "--", platform.Services["gateway"].ToString()],
            environment: new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" }, TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("created task", run.Output, StringComparison.Ordinal);
    }
}
