using System.Text.Json;
using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>The "libraries" of a build output's deps.json: every package and project the process loads, by name.</summary>
public static class DepsJson
{
    public static List<string> Libraries(string folder, string project, bool projectsOnly = false)
    {
        var path = Path.ChangeExtension(RepoPaths.Assembly(folder, project), ".deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(path));
        return [.. deps.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(library => !projectsOnly || library.Value.GetProperty("type").GetString() == "project")
            .Select(library => library.Name.Split('/')[0])];
    }
}
