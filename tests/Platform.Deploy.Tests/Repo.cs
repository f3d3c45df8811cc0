using Platform.Testing;

namespace Platform.Deploy.Tests;

/// <summary>Paths of the deployment artefacts under test.</summary>
public static class Repo
{
    public static string Path(params string[] parts) => System.IO.Path.Combine([RepoPaths.Root, .. parts]);

    public static string PlatformChart => Path("charts", "platform");

    public static string OperatorChart => Path("charts", "platform-operator");

    public static IEnumerable<string> Charts => [PlatformChart, OperatorChart];

    public static IEnumerable<string> Dashboards => Directory.GetFiles(Path("dashboards"), "*.json").Order();
}
