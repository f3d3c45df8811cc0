namespace Platform.Operator.Runtime;

public static class Supervision
{
    /// <summary>
    /// Waits for all of <paramref name="tasks"/>, but fails as soon as one fails: parts that run forever (informers,
    /// workers) would otherwise hide a dead sibling, and a controller without its worker looks healthy and does nothing.
    /// The caller cancels the rest; the elector then ends the host, and Kubernetes restarts the pod.
    /// </summary>
    public static async Task AllUnlessOneFailsAsync(IReadOnlyCollection<Task> tasks)
    {
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var ended = await Task.WhenAny(pending);
            if (ended.IsFaulted)
            {
                await ended;
            }
            pending.Remove(ended);
        }
        await Task.WhenAll(tasks);
    }
}
