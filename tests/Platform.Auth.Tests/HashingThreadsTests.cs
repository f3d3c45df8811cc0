using System.Globalization;
using System.Net;
using Platform.Auth.Passwords;

namespace Platform.Auth.Tests;

/// <summary>
/// The hashing threads, and the service's use of them seen from the kernel's side (/proc). In the auth collection, so
/// no other test of this process starts hashing threads while <see cref="Logins_are_hashed_on_the_hashing_threads_not_the_thread_pool"/>
/// counts them.
/// </summary>
[Collection(AuthTierCollection.Name)]
public sealed class HashingThreadsTests(AuthTierFixture fixture)
{
    [Fact]
    public async Task Each_thread_takes_its_own_work_and_a_failure_reaches_its_caller_only()
    {
        using var threads = new HashingThreads(3);
        using var meeting = new Barrier(3);

        // Three pieces of work that can finish only together: each must have a thread of its own.
        var met = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => threads.RunAsync(() => meeting.SignalAndWait(TimeSpan.FromSeconds(30)))));
        var failure = threads.RunAsync<int>(() => throw new InvalidOperationException("corrupt hash"));
        var after = threads.RunAsync(() => Environment.CurrentManagedThreadId);

        Assert.All(met, Assert.True);
        Assert.Equal("corrupt hash", (await Assert.ThrowsAsync<InvalidOperationException>(() => failure)).Message);
        Assert.NotEqual(Environment.CurrentManagedThreadId, await after);
    }

    [Fact]
    public async Task Logins_are_hashed_on_the_hashing_threads_not_the_thread_pool()
    {
        var before = HashingThreadCpu();
        await using var host = await AuthHost.StartAsync(fixture.Tier, "auth_login", overrides: new Dictionary<string, string?>
        {
            ["Passwords:MaxConcurrentHashes"] = "3",
            ["Passwords:BcryptCost"] = "10", // about 65 ms of CPU per hash: far above anything else those threads could do
        });
        var api = new AuthApiClient(host.CreateRealClient());

        var (email, _) = await api.NewUserAsync(); // a hash
        var started = HashingThreadCpu().ExceptBy(before.Keys, thread => thread.Key).ToDictionary();
        await api.LoginOkAsync(email); // a check
        using var wrong = await api.LoginAsync(email, "Wrong-password-1"); // and another
        var after = HashingThreadCpu();

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(3, started.Count); // this host's (hosts started before it have theirs)
        var spent = started.Sum(thread => after[thread.Key] - thread.Value);
        Assert.True(spent > 60_000_000, $"the hashing threads ran {spent / 1e6:F1} ms of CPU for two bcrypt checks at cost 10");
    }

    /// <summary>
    /// Thread id → nanoseconds on a CPU (/proc/…/task/…/schedstat, first field) of this process's threads named
    /// <see cref="HashingThreads.ThreadName"/>.
    /// </summary>
    private static Dictionary<int, long> HashingThreadCpu()
    {
        var cpu = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == HashingThreads.ThreadName)
                {
                    cpu[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                        long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // the thread ended between the listing and the read
            }
        }
        return cpu;
    }
}
