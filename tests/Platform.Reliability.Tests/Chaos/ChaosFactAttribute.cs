namespace Platform.Reliability.Tests.Chaos;

/// <summary>
/// A fault drill: minutes long and hard on the machine, so it runs only under <c>make chaos</c>
/// (PLATFORM_CHAOS=1), never in <c>make test</c>, where it shows as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChaosFactAttribute : FactAttribute
{
    public ChaosFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PLATFORM_CHAOS") != "1")
        {
            Skip = "a fault drill: run it with make chaos (PLATFORM_CHAOS=1)";
        }
    }
}
