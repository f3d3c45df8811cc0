using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
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
/// bounded queue, so a login storm waits its turn instead of starving every other request; when the queue is
/// full the caller gets null and answers 503.
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    private readonly ConcurrencyLimiter gate;
    private readonly int cost;
    private readonly AuthMetrics metrics;
    private readonly string dummyHash;

    public PasswordHasher(IOptions<PasswordOptions> options, AuthMetrics metrics)
    {
        var settings = options.Value;
        cost = settings.BcryptCost;
        this.metrics = metrics;
        gate = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.MaxConcurrentHashes > 0 ? settings.MaxConcurrentHashes : Environment.ProcessorCount,
            QueueLimit = settings.MaxQueuedHashes,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        // Compared against when the e-mail is unknown, so that answer costs exactly what a wrong password costs.
        // Made here, not on first use: otherwise the first unknown address would cost one hash more than the rest.
        dummyHash = BCryptNet.EnhancedHashPassword(Guid.NewGuid().ToString(), HashType.SHA384, cost);
    }

    public async Task<string?> HashAsync(string password, CancellationToken cancellationToken)
    {
        using var lease = await gate.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired ? Timed(() => BCryptNet.EnhancedHashPassword(password, HashType.SHA384, cost)) : null;
    }

    /// <summary>Checks a password against a stored hash, or against a dummy hash when there is no account.</summary>
    public async Task<PasswordCheck?> VerifyAsync(string password, string? storedHash, CancellationToken cancellationToken)
    {
        using var lease = await gate.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            return null;
        }
        var hash = storedHash ?? dummyHash;
        var valid = Timed(() => Verify(password, hash));
        if (!valid || storedHash is null)
        {
            return PasswordCheck.Invalid;
        }
        return BCryptNet.PasswordNeedsRehash(storedHash, cost) ? PasswordCheck.ValidButWeakerThanConfigured : PasswordCheck.Valid;
    }

    public void Dispose() => gate.Dispose();

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

    private T Timed<T>(Func<T> work)
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
    }
}
