using Platform.Operator.Runtime;

namespace Platform.Operator.Tests;

public sealed class SupervisionTests
{
    [Fact]
    public async Task A_part_that_fails_ends_the_wait_while_its_siblings_run_forever()
    {
        var forever = new TaskCompletionSource().Task;
        var failing = Task.Run(async () =>
        {
            await Task.Delay(50);
            throw new InvalidOperationException("the worker died");
        });

        var whole = Supervision.AllUnlessOneFailsAsync([forever, failing]);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => whole.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("the worker died", failure.Message);
    }

    [Fact]
    public async Task Parts_that_end_cleanly_end_the_wait_when_the_last_one_ends()
    {
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();

        var whole = Supervision.AllUnlessOneFailsAsync([first.Task, second.Task]);
        first.SetResult();
        await Task.Delay(50);
        Assert.False(whole.IsCompleted);
        second.SetResult();

        await whole.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
