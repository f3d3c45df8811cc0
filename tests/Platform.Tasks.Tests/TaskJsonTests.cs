using System.Text;
using Platform.Tasks.Tasks;

namespace Platform.Tasks.Tests;

/// <summary>What a cached task's bytes must hold for the read path to hand them on as they are.</summary>
public sealed class TaskJsonTests
{
    [Fact]
    public void A_task_serialised_for_the_cache_is_recognised_with_its_version()
    {
        var task = new TaskItem(Guid.NewGuid(), "t", "d", TaskStatuses.Todo, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 7);

        var cached = TaskJson.FromCached(TaskJson.From(task).Utf8);

        Assert.NotNull(cached);
        Assert.Equal(7, cached.Version);
        Assert.Equal("\"7\"", cached.ETag);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"id\":\"x\"}")]
    [InlineData("{\"version\":\"7\"}")]
    [InlineData("{\"version\":99999999999}")]
    [InlineData("{\"title\":{\"nested\":[1,{\"version\":3}]}}")]
    [InlineData("{\"version\":")]
    public void Bytes_that_are_not_a_task_with_a_version_are_a_miss(string text)
    {
        Assert.Null(TaskJson.FromCached(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void No_bytes_are_a_miss()
    {
        Assert.Null(TaskJson.FromCached(null));
    }

    [Fact]
    public void The_version_is_found_after_nested_values()
    {
        var cached = TaskJson.FromCached("{\"title\":{\"a\":[1,{\"version\":3}]},\"version\":4}"u8.ToArray());

        Assert.Equal(4, cached?.Version);
    }
}
