using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Messaging;
using Platform.ServiceDefaults.Redis;
using Platform.Testing;

namespace Platform.ServiceDefaults.Tests;

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

    private async Task<JsonElement> WaitForReadiness(HttpStatusCode expected)
    {
        var (_, body) = await Poll.UntilAsync(
            async () =>
            {
                using var response = await app.Client.GetAsync("/readyz");
                return (response.StatusCode, await response.Content.ReadAsStringAsync());
            },
            result => result.StatusCode == expected,
            Recovery,
            $"/readyz to answer {(int)expected}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
