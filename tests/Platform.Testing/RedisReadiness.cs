namespace Platform.Testing;

/// <summary>What a service counts Redis as, from its readiness report: for tests that freeze or stop Redis and must not
/// leave the next test a service still falling back.</summary>
public static class RedisReadiness
{
    public static Task UntilAsync(HttpClient service, bool healthy) =>
        Poll.UntilAsync(async () => (await service.GetStringAsync("/readyz")).Contains("\"redis\":{\"status\":\"Healthy\"", StringComparison.Ordinal) == healthy,
            TimeSpan.FromSeconds(20), healthy ? "Redis to count as restored" : "Redis to count as lost");
}
