using System.Globalization;
using System.Reflection;

namespace Platform.Data;

/// <summary>
/// A part of a database with a version history of its own: a service's tables, or the messaging tables every
/// producer and consumer shares. Its scripts are embedded resources named <c>schema/{component}/NNNN_name.sql</c>,
/// numbered from 1 without gaps. <see cref="EfCoreMigrationIds"/> maps versions to the EF Core migrations that
/// created the same objects before this history existed, so a database migrated by EF Core is adopted rather than
/// created again (<see cref="SchemaMigrator"/>).
/// </summary>
public sealed class SchemaComponent
{
    public SchemaComponent(string name, IReadOnlyList<SchemaScript> scripts, IReadOnlyDictionary<int, string>? efCoreMigrationIds = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(scripts);
        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Schema '{name}' must number its scripts 1, 2, 3… without gaps or repeats; script {i + 1} is {scripts[i].Label}.");
            }
        }
        EfCoreMigrationIds = efCoreMigrationIds ?? new Dictionary<int, string>();
        var unknown = EfCoreMigrationIds.Keys.Where(version => version < 1 || version > scripts.Count).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"Schema '{name}' maps EF Core migrations to versions it does not have: {string.Join(", ", unknown)}.");
        }
        Name = name;
        Scripts = scripts;
    }

    public string Name { get; }

    public IReadOnlyList<SchemaScript> Scripts { get; }

    public IReadOnlyDictionary<int, string> EfCoreMigrationIds { get; }

    /// <summary>The component's scripts embedded in <paramref name="assembly"/> under <c>schema/{name}/</c>.</summary>
    public static SchemaComponent FromResources(string name, Assembly assembly, IReadOnlyDictionary<int, string>? efCoreMigrationIds = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var prefix = $"schema/{name}/";
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource[prefix.Length..];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (!file.EndsWith(".sql", StringComparison.Ordinal) || separator != 4
                || !int.TryParse(file.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Schema script '{resource}' is not named NNNN_name.sql.");
            }
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            scripts.Add(new SchemaScript(version, file[(separator + 1)..^".sql".Length], reader.ReadToEnd()));
        }
        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"{assembly.GetName().Name} embeds no schema scripts under '{prefix}'.");
        }
        return new SchemaComponent(name, scripts, efCoreMigrationIds);
    }
}
