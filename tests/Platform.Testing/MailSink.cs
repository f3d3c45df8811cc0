using System.Globalization;
using MimeKit;

namespace Platform.Testing;

/// <summary>
/// The local SMTP server (scripts/mailsink.sh: Debian's aiosmtpd) of a data tier's run directory, on the tier's base
/// port + 9, delivering into the maildir <c>mail/</c> of that run directory — the same script <c>make run</c> uses.
/// </summary>
public sealed class MailSink
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, string> environment;

    public MailSink(DataTier tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        Port = tier.BasePort + 9;
        environment = new Dictionary<string, string>(tier.Environment) { ["SMTP_PORT"] = Port.ToString(CultureInfo.InvariantCulture) };
        Mailbox = new Mailbox(Path.Combine(tier.RunDirectory, "mail"));
    }

    public int Port { get; }

    public Mailbox Mailbox { get; }

    /// <summary>What auth needs to send through this server.</summary>
    public Dictionary<string, string?> AuthSettings() => new()
    {
        ["Mail:Host"] = "127.0.0.1",
        ["Mail:Port"] = Port.ToString(CultureInfo.InvariantCulture),
        ["Mail:Security"] = "None",
        ["Mail:From"] = "platform@example.org",
    };

    public async Task UpAsync() =>
        (await ShellCommand.RunAsync("bash", [RepoPaths.Script("mailsink.sh"), "up"], environment, ScriptTimeout)).EnsureSuccess("mailsink.sh up");

    public async Task DownAsync() =>
        (await ShellCommand.RunAsync("bash", [RepoPaths.Script("mailsink.sh"), "down"], environment, ScriptTimeout)).EnsureSuccess("mailsink.sh down");
}

/// <summary>A maildir as a test reads it: every message delivered so far, by envelope recipient.</summary>
public sealed class Mailbox(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>The messages delivered to <paramref name="address"/> (its <c>Delivered-To</c>), oldest first.</summary>
    public IReadOnlyList<MimeMessage> To(string address)
    {
        var delivered = new List<(DateTime Written, MimeMessage Message)>();
        foreach (var folder in new[] { "new", "cur" })
        {
            var path = Path.Combine(Directory, folder);
            if (!System.IO.Directory.Exists(path))
            {
                continue;
            }
            foreach (var file in System.IO.Directory.EnumerateFiles(path))
            {
                var message = MimeMessage.Load(file);
                if (message.Headers.Any(h => h.Field.Equals("Delivered-To", StringComparison.OrdinalIgnoreCase) && string.Equals(h.Value.Trim(), address, StringComparison.OrdinalIgnoreCase)))
                {
                    delivered.Add((File.GetLastWriteTimeUtc(file), message));
                }
            }
        }
        return [.. delivered.OrderBy(d => d.Written).Select(d => d.Message)];
    }

    /// <summary>The messages to the address with that subject, oldest first.</summary>
    public IReadOnlyList<MimeMessage> To(string address, string subject) => [.. To(address).Where(m => m.Subject == subject)];

    /// <summary>Waits until <paramref name="count"/> messages with the subject were delivered to the address; returns them all.</summary>
    public Task<IReadOnlyList<MimeMessage>> WaitForAsync(string address, string subject, int count = 1, TimeSpan? timeout = null) =>
        Poll.UntilAsync(() => Task.FromResult(To(address, subject)), messages => messages.Count >= count, timeout ?? TimeSpan.FromSeconds(20),
            $"{count} mail(s) \"{subject}\" to {address} in {Directory}");
}
