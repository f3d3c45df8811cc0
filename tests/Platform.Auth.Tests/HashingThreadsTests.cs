using System.Globalization;
using System.Net;
using Platform.Auth.Passwords;

namespace Platform.Auth.Tests;

/// <summary>
/// The hashing threads against the real Linux scheduler: the policy is read back from the kernel. In the auth
/// collection, so no other test starts hashing threads while <see cref="HashingPriorityTests"/> counts them.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class HashingThreadsTests
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    [Fact]
    public async Task Work_runs_at_idle_priority_while_the_thread_pool_stays_ordinary()
    {
        using var threads = new HashingThreads(2, HashPriority.Idle);

        var policies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => threads.RunAsync(HashingThreads.CurrentThreadPolicy)));

        Assert.Null(threads.PriorityRefusal);
        Assert.All(policies, policy => Assert.Equal(SchedIdle, policy));
        Assert.Equal(SchedOther, await Task.Run(HashingThreads.CurrentThreadPolicy));
    }

    [Fact]
    public async Task Normal_priority_leaves_the_threads_ordinary()
    {
        using var threads = new HashingThreads(1, HashPriority.Normal);

        Assert.Equal(SchedOther, await threads.RunAsync(HashingThreads.CurrentThreadPolicy));
        Assert.Null(threads.PriorityRefusal);
    }

    [Fact]
    public async Task Each_thread_takes_its_own_work_and_a_failure_reaches_its_caller_only()
    {
        using var threads = new HashingThreads(3, HashPriority.Idle);
        using var meeting = new Barrier(3);

        // Three pieces of work that can finish only together: each must have a thread of its own.
        var met = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => threads.RunAsync(() => meeting.SignalAndWait(TimeSpan.FromSeconds(30)))));
        var failure = threads.RunAsync<int>(() => throw new InvalidOperationException("corrupt hash"));
        var after = threads.RunAsync(() => 42);

        Assert.All(met, Assert.True);
        Assert.Equal("corrupt hash", (await Assert.ThrowsAsync<InvalidOperationException>(() => failure)).Message);
        Assert.Equal(42, await after);
    }
}

/// <summary>The running service hashes on its idle-priority threads, seen from the kernel's side.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class HashingPriorityTests(AuthTierFixture fixture)
{
    private const int SchedIdle = 5;

    [Fact]
    public async Task A_login_is_hashed_on_threads_the_kernel_schedules_as_idle()
    {
        var before = HashingThreadPolicies();
        await using var host = await AuthHost.StartAsync(fixture.Tier, "auth_login", overrides: new Dictionary<string, string?>
        {
            ["Passwords:MaxConcurrentHashes"] = "3",
        });
        var api = new AuthApiClient(host.CreateRealClient());

        var (email, _) = await api.NewUserAsync();
        var tokens = await api.LoginOkAsync(email);

        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
        var added = HashingThreadPolicies().ExceptBy(before.Keys, thread => thread.Key).ToList();
        Assert.Equal(3, added.Count); // this host's, named "password hash" (hosts started before it have theirs)
        Assert.All(added, thread => Assert.Equal(SchedIdle, thread.Value));
        using var wrong = await api.LoginAsync(email, "Wrong-password-1");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    /// <summary>Thread id → scheduling policy of this process's threads named "password hash" (/proc, man 5 proc: field 41).</summary>
    private static Dictionary<int, int> HashingThreadPolicies()
    {
        var policies = new Dictionary<int, int>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != "password hash")
                {
                    continue;
                }
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd (state) on
                policies[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                    int.Parse(fields[41 - 3], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended between the listing and the read
            }
        }
        return policies;
    }
}
