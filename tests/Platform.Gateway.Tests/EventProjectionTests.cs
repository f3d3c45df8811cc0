using System.Text.Json;
using Platform.Contracts.Events;
using Platform.Gateway.Events;

namespace Platform.Gateway.Tests;

/// <summary>What of an integration event a client may see: a pure function, tested on its own.</summary>
public sealed class EventProjectionTests
{
    private static readonly Guid Owner = Guid.CreateVersion7();

    [Fact]
    public void A_session_event_is_forwarded_without_its_owner_or_anything_that_looks_secret()
    {
        var projected = EventProjection.Project(IntegrationEvent.Create("session.created", "auth", new
        {
            userId = Owner,
            sessionId = Guid.CreateVersion7(),
            device = "Firefox on Linux",
            refreshTokenHash = "abc",
            nested = new { apiKey = "k", ipAddress = "203.0.113.9" },
        }))!;
        var data = JsonDocument.Parse(projected.Data).RootElement.GetProperty("data");

        Assert.Equal(Owner, projected.UserId);
        Assert.Equal("Firefox on Linux", data.GetProperty("device").GetString());
        Assert.False(data.TryGetProperty("userId", out _));
        Assert.False(data.TryGetProperty("refreshTokenHash", out _));
        Assert.False(data.GetProperty("nested").TryGetProperty("apiKey", out _));
        Assert.DoesNotContain(Owner.ToString(), projected.Data, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_terminated_event_names_the_session_whose_stream_it_ends()
    {
        var sessionId = Guid.CreateVersion7();

        var projected = EventProjection.Project(IntegrationEvent.Create("session.terminated", "auth", new { userId = Owner, sessionId, reason = "logout" }))!;

        Assert.Equal(sessionId, projected.TerminatedSession);
    }

    [Theory]
    [InlineData("user.deleted")]
    [InlineData("user.registered")]
    [InlineData("task.created\nevent: forged")]
    public void Events_that_are_not_for_clients_or_would_break_the_framing_are_not_streamed(string type)
    {
        Assert.Null(EventProjection.Project(IntegrationEvent.Create(type, "auth", new { userId = Owner, email = "a@example.org" })));
    }

    [Fact]
    public void An_event_without_an_owner_is_not_streamed()
    {
        Assert.Null(EventProjection.Project(IntegrationEvent.Create(EventTypes.TaskDeleted, "tasks", new { id = Guid.CreateVersion7() })));
    }

    [Fact]
    public void A_task_event_carries_the_task_and_its_etag_and_nothing_else()
    {
        var id = Guid.CreateVersion7();

        var projected = EventProjection.Project(IntegrationEvent.Create(EventTypes.TaskUpdated, "tasks",
            new { id, userId = Owner, title = "t", description = "", status = "todo", dueAt = (DateTimeOffset?)null, createdAt = DateTimeOffset.UtcNow, updatedAt = DateTimeOffset.UtcNow, version = 3, internalNote = "x" }))!;
        var data = JsonDocument.Parse(projected.Data).RootElement.GetProperty("data");

        Assert.Equal("\"3\"", data.GetProperty("etag").GetString());
        Assert.Equal(id.ToString(), data.GetProperty("task").GetProperty("id").GetString());
        Assert.False(data.GetProperty("task").TryGetProperty("internalNote", out _));
        Assert.False(data.GetProperty("task").TryGetProperty("userId", out _));
    }
}
