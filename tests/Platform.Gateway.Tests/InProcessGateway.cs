using Platform.Testing;

namespace Platform.Gateway.Tests;

/// <summary>Another gateway instance in the test process, with the platform's settings plus a test's own.</summary>
public sealed class InProcessGateway : ServiceHost<Program>
{
    private InProcessGateway(IReadOnlyDictionary<string, string?> settings)
        : base(settings)
    {
    }

    public static InProcessGateway Start(GatewayPlatform platform, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var settings = platform.InProcessGatewaySettings();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var gateway = new InProcessGateway(settings);
        gateway.StartServer();
        return gateway;
    }
}
