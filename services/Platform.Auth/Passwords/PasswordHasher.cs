using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Hosting;
using BCryptNet = BCrypt.Net.BCrypt;
using HashType = BCrypt.Net.HashType;

namespace Platform.Auth.Passwords;

public enum PasswordCheck
{
    Invalid,
    Valid,
    ValidButWeakerThanConfigured,
}

/// <summary>
/// bcrypt over a SHA-384 pre-hash (BCrypt.Net's "enhanced" mode), so passwords longer than bcrypt's 72 bytes are
/// not silently truncated: every character counts. Hashing runs through a gate sized to the CPU count with a
/// bounded queue, so a login storm waits its turn instead of starving every other request. The queue is bounded in
/// length (memory) and in time: a hash waits at most <see cref="PasswordOptions.MaxHashWaitSeconds"/> for its slot,
/// because how long a queue of a given length takes depends on the CPU the pod really gets (a CPU limit's throttling,
/// or neighbours on the node: `make bench` scenario 5 saw hashes of 136 ms CPU take 2.5 s and logins wait past
/// clients' timeouts). When either bound is hit the caller gets null and answers 503 with Retry-After at once.
/// The hashes themselves run on <see cref="HashingThreads"/>, one per slot, not on the thread pool.
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    private readonly SlotGate gate;
    private readonly int cost;
    private readonly AuthMetrics metrics;
    private readonly string dummyHash;
    private readonly HashingThreads threads;

    public PasswordHasher(IOptions<PasswordOptions> options, AuthMetrics metrics)
    {
        var settings = options.Value;
        cost = settings.BcryptCost;
        this.metrics = metrics;
        var slots = settings.MaxConcurrentHashes > 0 ? settings.MaxConcurrentHashes : Environment.ProcessorCount;
        threads = new HashingThreads(slots);
        gate = new SlotGate(slots, settings.MaxQueuedHashes, TimeSpan.FromSeconds(settings.MaxHashWaitSeconds));
        // Compared against when the e-mail is unknown, so that answer costs exactly what a wrong password costs.
        // Made here, not on first use: otherwise the first unknown address would cost one hash more than the rest.
        dummyHash = BCryptNet.EnhancedHashPassword(Guid.NewGuid().ToString(), HashType.SHA384, cost);
    }

    public async Task<string?> HashAsync(string password, CancellationToken cancellationToken)
    {
        using var lease = await gate.AcquireAsync(cancellationToken);
        return lease.IsAcquired ? await Timed(() => BCryptNet.EnhancedHashPassword(password, HashType.SHA384, cost)) : null;
    }

    /// <summary>Checks a password against a stored hash, or against a dummy hash when there is no account.</summary>
    public async Task<PasswordCheck?> VerifyAsync(string password, string? storedHash, CancellationToken cancellationToken)
    {
        using var lease = await gate.AcquireAsync(cancellationToken);
        if (!lease.IsAcquired)
        {
            return null;
        }
        var hash = storedHash ?? dummyHash;
        var valid = await Timed(() => Verify(password, hash));
        if (!valid || storedHash is null)
        {
            return PasswordCheck.Invalid;
        }
        return BCryptNet.PasswordNeedsRehash(storedHash, cost) ? PasswordCheck.ValidButWeakerThanConfigured : PasswordCheck.Valid;
    }

    public void Dispose()
    {
        gate.Dispose();
        threads.Dispose();
    }

    private static bool Verify(string password, string hash)
    {
        try
        {
            return BCryptNet.EnhancedVerify(password, hash, HashType.SHA384);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false; // a corrupt stored hash must read as a failed login, not as a server error
        }
    }

    /// <summary>The work on a hashing thread; its duration (on that thread, so without the wait for a slot) is recorded.</summary>
    private Task<T> Timed<T>(Func<T> work) => threads.RunAsync(() =>
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            metrics.PasswordHashDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    });
}
