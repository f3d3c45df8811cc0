namespace Platform.Reliability.Tests.Security;

/// <summary>
/// An attack drill whose figures go into the report (timing distributions, throttling sequences): it runs under
/// <c>make security</c> (PLATFORM_SECURITY=1), not in <c>make test</c>, where it shows as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SecurityFactAttribute : FactAttribute
{
    public SecurityFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PLATFORM_SECURITY") != "1")
        {
            Skip = "an attack drill: run it with make security (PLATFORM_SECURITY=1)";
        }
    }
}
