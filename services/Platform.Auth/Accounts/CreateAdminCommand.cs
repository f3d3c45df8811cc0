using Microsoft.EntityFrameworkCore;
using Platform.Auth.Admin;
using Platform.Auth.Data;
using Platform.Auth.Passwords;
using Platform.Authentication;
using Platform.Contracts.Events;
using Platform.Messaging;

namespace Platform.Auth.Accounts;

/// <summary>
/// <c>Platform.Auth create-admin --email ADDRESS [--name NAME] [--password-file PATH]</c>: the way to the first admin,
/// since only an admin can make another. Creates the account with the admin role, or grants the role to the existing
/// account with that address (its password untouched). A new account's password comes from <c>--password-file</c>,
/// else the <c>PLATFORM_ADMIN_PASSWORD</c> variable, else the first line of standard input when it is redirected —
/// never from the command line (it would show in <c>ps</c>) and never a default. Audited as <c>admin.create</c> with no actor.
/// </summary>
public static class CreateAdminCommand
{
    public const string PasswordVariable = "PLATFORM_ADMIN_PASSWORD";

    public static bool IsCreateAdminCommand(string[] args) => args is ["create-admin", ..];

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        if (Option(args, "--email") is not { } email || CredentialRules.EmailProblem(email) is not null)
        {
            await error.WriteLineAsync("usage: create-admin --email ADDRESS [--name NAME] [--password-file PATH]  (password: --password-file, $"
                + PasswordVariable + " or stdin)");
            return 2;
        }
        var name = Option(args, "--name");
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var normalized = CredentialRules.Normalize(email);
        if (await db.Users.SingleOrDefaultAsync(u => u.EmailNormalized == normalized) is { } existing)
        {
            if (!existing.Roles.Contains(PlatformRoles.Admin))
            {
                var before = existing.Roles.ToList();
                existing.Roles = RoleSet.With(existing.Roles, PlatformRoles.Admin);
                db.AddEvent(AccountEvents.RoleChanged(existing.Id, before, existing.Roles, actorId: null));
                AuditLog.Record(db, actorId: null, actorEmail: null, clientAddress: null, AuditActions.CreateAdmin, existing.Id, new { created = false });
                await db.SaveChangesAsync();
            }
            await output.WriteLineAsync($"{existing.Email} ({existing.Id}) is an admin.");
            return 0;
        }
        var password = await ReadPasswordAsync(args, input);
        if (CredentialRules.PasswordProblem(password) is { } passwordProblem)
        {
            await error.WriteLineAsync(password is null
                ? $"No password: give --password-file, set {PasswordVariable}, or pipe it on stdin."
                : passwordProblem);
            return 2;
        }
        if (CredentialRules.NameProblem(name) is { } nameProblem)
        {
            await error.WriteLineAsync(nameProblem);
            return 2;
        }
        var hash = await scope.ServiceProvider.GetRequiredService<PasswordHasher>().HashAsync(password!, CancellationToken.None)
            ?? throw new InvalidOperationException("The password hasher refused work in an idle process.");
        var user = new User
        {
            Id = Guid.CreateVersion7(), Email = email.Trim(), EmailNormalized = normalized, Name = name?.Trim(), PasswordHash = hash,
            CreatedAt = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow(),
            Roles = RoleSet.With([PlatformRoles.User], PlatformRoles.Admin),
        };
        db.Users.Add(user);
        db.AddEvent(AccountEvents.Create(EventTypes.UserRegistered, new { userId = user.Id, email = user.Email }));
        AuditLog.Record(db, actorId: null, actorEmail: null, clientAddress: null, AuditActions.CreateAdmin, user.Id, new { created = true });
        await db.SaveChangesAsync();
        await output.WriteLineAsync($"Created admin {user.Email} ({user.Id}).");
        return 0;
    }

    private static async Task<string?> ReadPasswordAsync(string[] args, TextReader input)
    {
        if (Option(args, "--password-file") is { } path)
        {
            return (await File.ReadAllTextAsync(path)).TrimEnd('\r', '\n');
        }
        if (Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        // An interactive terminal is not read: the password would echo. A pipe, a file or a test's reader is.
        return input != Console.In || Console.IsInputRedirected ? await input.ReadLineAsync() : null;
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
