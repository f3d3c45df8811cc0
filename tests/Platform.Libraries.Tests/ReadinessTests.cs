using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Broker;
using Platform.Data;
using Platform.Redis;
using Platform.Testing;

namespace Platform.Libraries.Tests;

[Collection(DataTierCollection.Name)]
public sealed class ReadinessTests(DataTierFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);
    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync(builder =>
    {
        builder.Configuration["ConnectionStrings:Postgres"] = fixture.Tier.PostgresPrimary;
        builder.Configuration["ConnectionStrings:Redis"] = fixture.Tier.RedisConnectionString;
        builder.Configuration["ConnectionStrings:RabbitMq"] = fixture.Tier.RabbitMqUri;
        builder.AddPlatformPostgres("postgres");
        builder.AddPlatformRedis();
        builder.AddPlatformRabbitMq();
    });

    public async Task DisposeAsync()
    {
        await fixture.Tier.UpAsync(DataTier.Primary, DataTier.Redis, DataTier.RabbitMq);
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Liveness_does_not_depend_on_anything()
    {
        using var response = await app.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(DataTier.Redis, "redis")]
    [InlineData(DataTier.Primary, "postgres")]
    [InlineData(DataTier.RabbitMq, "rabbitmq")]
    public async Task Readiness_turns_503_while_a_dependency_is_down_and_200_when_it_returns(string component, string check)
    {
        await WaitForReadiness(HttpStatusCode.OK);

        await fixture.Tier.DownAsync(component);
        var down = await WaitForReadiness(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", down.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());

        await fixture.Tier.UpAsync(component);
        var up = await WaitForReadiness(HttpStatusCode.OK);
        Assert.Equal("Healthy", up.GetProperty("checks").GetProperty(check).GetProperty("status").GetString());
    }

    /// <summary>How auth, tasks and files register Redis and RabbitMQ: an outage degrades them, so they stay in their Service.</summary>
    [Theory]
    [InlineData(DataTier.Redis, "redis")]
    [InlineData(DataTier.RabbitMq, "rabbitmq")]
    public async Task A_dependency_registered_as_degrading_keeps_readiness_200_while_it_is_down(string component, string check)
    {
        await using var tolerant = await TestApp.StartAsync(builder =>
        {
            builder.Configuration["ConnectionStrings:Redis"] = fixture.Tier.RedisConnectionString;
            builder.Configuration["ConnectionStrings:RabbitMq"] = fixture.Tier.RabbitMqUri;
            builder.AddPlatformRedis(outageStatus: HealthStatus.Degraded);
            builder.AddPlatformRabbitMq(outageStatus: HealthStatus.Degraded);
        });
        await WaitForReadiness(HttpStatusCode.OK, tolerant, report => report.GetProperty("status").GetString() == "Healthy");

        await fixture.Tier.DownAsync(component);
        var down = await WaitForReadiness(HttpStatusCode.OK, tolerant, report => report.GetProperty("checks").GetProperty(check).GetProperty("status").GetString() == "Degraded");
        Assert.Equal("Degraded", down.GetProperty("status").GetString());

        await fixture.Tier.UpAsync(component);
        await WaitForReadiness(HttpStatusCode.OK, tolerant, report => report.GetProperty("status").GetString() == "Healthy");
    }

    private Task<JsonElement> WaitForReadiness(HttpStatusCode expected) => WaitForReadiness(expected, app, _ => true);

    private static async Task<JsonElement> WaitForReadiness(HttpStatusCode expected, TestApp target, Func<JsonElement, bool> reportMatches)
    {
        var (_, body) = await Poll.UntilAsync(
            async () =>
            {
                using var response = await target.Client.GetAsync("/readyz");
                return (response.StatusCode, await response.Content.ReadAsStringAsync());
            },
            result => result.StatusCode == expected && reportMatches(JsonDocument.Parse(result.Item2).RootElement),
            Recovery,
            $"/readyz to answer {(int)expected} with the expected report");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
