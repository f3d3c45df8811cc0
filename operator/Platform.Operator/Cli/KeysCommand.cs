using System.Globalization;
using Platform.Contracts.Keys;
using Platform.Operator.Controllers;
using Platform.Operator.Keys;

namespace Platform.Operator.Cli;

/// <summary>
/// The local keyset under <c>make run</c>, driven by the same <see cref="KeyRotation"/> the controller runs:
/// <list type="bullet">
/// <item><c>keys init --dir DIR</c> creates a keyset with one active key unless one exists.</item>
/// <item><c>keys rotate --dir DIR [--wait] [--auth URL] [--emergency] [timings]</c> starts a rotation; with
/// <c>--wait</c> it stays to activate, retire and remove on time, asking auth at URL which keyset it has loaded.</item>
/// <item><c>keys show --dir DIR</c> prints each key's state.</item>
/// </list>
/// </summary>
public static class KeysCommand
{
    public const string Usage = """
        usage: Platform.Operator keys init --dir DIR
               Platform.Operator keys rotate --dir DIR [--wait] [--auth URL] [--emergency] [--algorithm ES256|RS256|PS256]
                                 [--pre-publish 15s] [--retire-after 70s] [--propagation 7s] [--token-lifetime-plus-skew 65s]
               Platform.Operator keys show --dir DIR
        """;

    /// <summary>
    /// Local timings, matched to what scripts/platform.sh gives the services: auth re-reads the keyset within
    /// 2 s and sends a JWKS max-age of 5 s (propagation 7 s; the evidence check opens twice that before an
    /// activation, so prePublish is 15 s), access tokens live 1 min and validators allow 5 s of skew (65 s).
    /// A whole rotation then takes about 85 s.
    /// </summary>
    private static readonly Dictionary<string, string> LocalDefaults = new()
    {
        ["--pre-publish"] = "15s",
        ["--retire-after"] = "70s",
        ["--propagation"] = "7s",
        ["--token-lifetime-plus-skew"] = "65s",
        ["--algorithm"] = SigningKeyFactory.Es256,
    };

    private static readonly HashSet<string> Flags = ["--wait", "--emergency"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TimeProvider clock, CancellationToken cancellationToken, HttpClient? http = null)
    {
        if (args is not [var command, .. var rest] || !TryParseOptions(rest, out var options) || !options.TryGetValue("--dir", out var directory) || string.IsNullOrWhiteSpace(directory))
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }
        return command switch
        {
            "init" when options.Count == 1 => await InitAsync(directory, output, clock, cancellationToken),
            "show" when options.Count == 1 => await ShowAsync(directory, output, clock, cancellationToken),
            "rotate" => await RotateAsync(directory, options, output, clock, http, cancellationToken),
            _ => await UsageAsync(output),
        };
    }

    private static async Task<int> UsageAsync(TextWriter output)
    {
        await output.WriteLineAsync(Usage);
        return 2;
    }

    private static async Task<int> InitAsync(string directory, TextWriter output, TimeProvider clock, CancellationToken cancellationToken)
    {
        var existing = await KeysetFile.ReadAsync(directory, cancellationToken);
        if (existing is not null)
        {
            await output.WriteLineAsync($"keyset {KeysetFile.PathIn(directory)} exists (version {existing.Version}, {existing.Keys.Count} keys); left as is");
            return 0;
        }
        var now = clock.GetUtcNow();
        var key = SigningKeyFactory.CreateEs256(now, activatesAt: now);
        await KeysetFile.WriteAsync(directory, new Keyset(Version: 1, [key]), cancellationToken);
        await output.WriteLineAsync($"keyset {KeysetFile.PathIn(directory)} created with active key {key.Kid}");
        return 0;
    }

    private static async Task<int> ShowAsync(string directory, TextWriter output, TimeProvider clock, CancellationToken cancellationToken)
    {
        var keyset = await KeysetFile.ReadAsync(directory, cancellationToken);
        if (keyset is null)
        {
            await output.WriteLineAsync($"no keyset in {directory}");
            return 1;
        }
        var now = clock.GetUtcNow();
        var active = Keyset.ActiveAt(keyset.Keys, now);
        await output.WriteLineAsync($"keyset version {keyset.Version}");
        foreach (var key in keyset.Keys)
        {
            var state = key.ExpiresAt <= now ? "expired" : key.ActivatesAt > now ? "next" : key.Kid == active?.Kid ? "active" : "retiring";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{key.Kid}  {key.Alg}  {state,-8}  activates {key.ActivatesAt:O}  retires {key.RetiresAt?.ToString("O", CultureInfo.InvariantCulture) ?? "-"}  expires {key.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture) ?? "-"}"));
        }
        return 0;
    }

    private static async Task<int> RotateAsync(string directory, Dictionary<string, string> options, TextWriter output, TimeProvider clock, HttpClient? http, CancellationToken cancellationToken)
    {
        string Option(string name) => options.TryGetValue(name, out var value) ? value : LocalDefaults[name];
        if (!GoDuration.TryParse(Option("--pre-publish"), out var prePublish) || !GoDuration.TryParse(Option("--retire-after"), out var retireAfter)
            || !GoDuration.TryParse(Option("--propagation"), out var propagation) || !GoDuration.TryParse(Option("--token-lifetime-plus-skew"), out var tokenLifetime))
        {
            return await UsageAsync(output);
        }
        var keyset = await KeysetFile.ReadAsync(directory, cancellationToken);
        if (keyset is null)
        {
            await output.WriteLineAsync($"no keyset in {directory}; run keys init first");
            return 1;
        }
        var authUrl = options.TryGetValue("--auth", out var auth) ? new Uri(new Uri(auth.TrimEnd('/') + "/"), "internal/keyset") : null;
        var ownsHttp = http is null;
        http ??= new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            // Rotations here happen only on request: the period just has to exceed prePublish and never come due.
            var timings = new RotationTimings(TimeSpan.FromDays(3650), prePublish, retireAfter);
            var spec = new RotationSpec(Option("--algorithm"), timings, "cli-" + clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), options.ContainsKey("--emergency"));
            var bounds = new RotationBounds(propagation, tokenLifetime);
            var memory = new RotationMemory(null, Keyset.ActiveAt(keyset.Keys, clock.GetUtcNow())?.Kid, keyset.Keys.Select(k => k.Kid).ToList());
            while (true)
            {
                var now = clock.GetUtcNow();
                IReadOnlyList<AuthPodReport> pods = authUrl is null ? [] : [await HttpAuthPodProbe.ReadAsync(http, authUrl, authUrl.Authority, cancellationToken)];
                var outcome = KeyRotation.Decide(new RotationInput(spec, bounds, keyset, memory, pods, now), SigningKeyFactory.Create);
                if (outcome.InvalidSpec is not null)
                {
                    await output.WriteLineAsync($"refused: {outcome.InvalidSpec}");
                    return 1;
                }
                if (outcome.KeysetChanged)
                {
                    keyset = outcome.Keyset!;
                    await KeysetFile.WriteAsync(directory, keyset, cancellationToken);
                }
                foreach (var keyEvent in outcome.Events)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{now:HH:mm:ss} {keyEvent.Kind}: {keyEvent.Message}"));
                }
                memory = new RotationMemory(outcome.Status.HandledRotateNow, outcome.Status.ActiveKid, outcome.Status.PublishedKids);
                var atRest = keyset!.Keys.Count == 1 && outcome.Status.NextKid is null;
                if (!options.ContainsKey("--wait") || atRest || outcome.RequeueAt is not { } wakeAt)
                {
                    await output.WriteLineAsync($"keyset version {keyset.Version}: active {outcome.Status.ActiveKid}, next {outcome.Status.NextKid ?? "-"}, published {string.Join(", ", outcome.Status.PublishedKids)}");
                    return 0;
                }
                var wait = wakeAt - clock.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, cancellationToken);
                }
            }
        }
        finally
        {
            if (ownsHttp)
            {
                http.Dispose();
            }
        }
    }

    private static bool TryParseOptions(string[] args, out Dictionary<string, string> options)
    {
        options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (Flags.Contains(args[i]))
            {
                options[args[i]] = "true";
            }
            else if ((args[i] == "--dir" || args[i] == "--auth" || LocalDefaults.ContainsKey(args[i])) && i + 1 < args.Length)
            {
                options[args[i]] = args[++i];
            }
            else
            {
                return false;
            }
        }
        return true;
    }
}
