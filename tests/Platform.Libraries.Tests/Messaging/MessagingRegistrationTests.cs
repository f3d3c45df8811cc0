using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using Platform.Broker;
using Platform.Contracts.Events;
using Platform.Data;
using Platform.Messaging;

using Platform.Testing;

namespace Platform.Libraries.Tests.Messaging;

/// <summary>A wrong messaging setting stops the service at start, not at its first event.</summary>
public sealed class MessagingRegistrationTests
{
    [Fact]
    public async Task An_invalid_outbox_setting_fails_the_start()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(builder =>
        {
            builder.Configuration["Outbox:BatchSize"] = "0";
            AddUnreachableDependencies(builder);
            builder.AddPlatformOutbox();
        }));

        Assert.Contains(nameof(OutboxOptions.BatchSize), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_consumer_setting_fails_the_registration()
    {
        var builder = WebApplication.CreateBuilder();

        Assert.Throws<ValidationException>(() =>
            builder.AddPlatformEventConsumer<RecordingHandler>("tasks.events", [EventTypes.UserDeleted], options => options.MaxDeliveryAttempts = 0));
    }

    [Fact]
    public void A_consumer_without_routing_keys_fails_the_registration()
    {
        var builder = WebApplication.CreateBuilder();

        Assert.Throws<ArgumentException>(() => builder.AddPlatformEventConsumer<RecordingHandler>("tasks.events", []));
    }

    private static void AddUnreachableDependencies(WebApplicationBuilder builder)
    {
        builder.Configuration["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=nobody";
        builder.Configuration["ConnectionStrings:RabbitMq"] = "amqp://nobody:nothing@127.0.0.1:1/";
        builder.AddPlatformPostgres("nothing");
        builder.AddPlatformRabbitMq();
    }
}
