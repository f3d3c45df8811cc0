using System.Text;
using System.Text.Json;
using Platform.Contracts.Events;

namespace Platform.Libraries.Tests.Messaging;

public sealed class IntegrationEventTests
{
    [Fact]
    public void The_wire_form_is_the_camelCase_envelope_with_the_data_inside()
    {
        var created = IntegrationEvent.Create(EventTypes.UserRegistered, "auth", new { UserId = Guid.Empty, DisplayName = "Ada" }, correlationId: "request-1");

        var json = JsonDocument.Parse(IntegrationEventJson.Serialize(created)).RootElement;

        Assert.Equal(["id", "type", "occurredAt", "source", "correlationId", "data"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(created.Id, json.GetProperty("id").GetGuid());
        Assert.Equal("user.registered", json.GetProperty("type").GetString());
        Assert.Equal(created.OccurredAt, json.GetProperty("occurredAt").GetDateTimeOffset());
        Assert.Equal("auth", json.GetProperty("source").GetString());
        Assert.Equal("request-1", json.GetProperty("correlationId").GetString());
        Assert.Equal("Ada", json.GetProperty("data").GetProperty("displayName").GetString());
    }

    [Fact]
    public void An_event_read_back_from_its_wire_form_equals_the_original()
    {
        var created = IntegrationEvent.Create(EventTypes.FileUploaded, "files", new { Name = "a.txt", Size = 3 });

        Assert.True(IntegrationEventJson.TryParse(IntegrationEventJson.Serialize(created), out var parsed, out _));

        Assert.Equal(created, parsed);
    }

    [Fact]
    public void Events_differing_only_in_the_order_of_data_properties_are_equal()
    {
        var first = IntegrationEvent.Create(EventTypes.TaskUpdated, "tasks", new { A = 1, B = 2 });
        var reordered = first with { Data = JsonDocument.Parse("""{"b": 2, "a": 1}""").RootElement };

        Assert.Equal(first, reordered);
        Assert.NotEqual(first, first with { Data = JsonDocument.Parse("""{"a": 1, "b": 3}""").RootElement });
    }

    [Fact]
    public void New_events_have_distinct_time_ordered_ids_and_microsecond_times()
    {
        var first = IntegrationEvent.Create(EventTypes.TaskCreated, "tasks", new { });
        var second = IntegrationEvent.Create(EventTypes.TaskCreated, "tasks", new { });

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(7, first.Id.Version);
        Assert.Equal(0, first.OccurredAt.Ticks % TimeSpan.TicksPerMicrosecond);
        Assert.Equal(TimeSpan.Zero, first.OccurredAt.Offset);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"tasks","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"00000000-0000-0000-0000-000000000000","type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"tasks","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"not-a-guid","type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"tasks","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"0198f5a0-0000-7000-8000-000000000001","type":null,"occurredAt":"2026-01-01T00:00:00Z","source":"tasks","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"0198f5a0-0000-7000-8000-000000000001","type":"task.created","occurredAt":"yesterday","source":"tasks","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"0198f5a0-0000-7000-8000-000000000001","type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"","correlationId":null,"data":{}}""")]
    [InlineData("""{"id":"0198f5a0-0000-7000-8000-000000000001","type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"tasks","correlationId":null}""")]
    public void A_message_that_is_not_a_whole_envelope_is_refused_with_a_reason(string message)
    {
        Assert.False(IntegrationEventJson.TryParse(Encoding.UTF8.GetBytes(message), out var parsed, out var error));

        Assert.Null(parsed);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void A_correlation_id_may_be_missing()
    {
        const string withoutCorrelation = """{"id":"0198f5a0-0000-7000-8000-000000000001","type":"task.created","occurredAt":"2026-01-01T00:00:00Z","source":"tasks","data":{"x":1}}""";

        Assert.True(IntegrationEventJson.TryParse(Encoding.UTF8.GetBytes(withoutCorrelation), out var parsed, out _));

        Assert.Null(parsed.CorrelationId);
    }
}
