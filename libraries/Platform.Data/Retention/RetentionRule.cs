namespace Platform.Data.Retention;

/// <summary>
/// A table whose rows go once <paramref name="AgeColumn"/> is older than the table's horizon
/// (<c>Retention:Horizons:{table}</c>, else <paramref name="DefaultHorizon"/>). A row whose age column is null is
/// never removed. <paramref name="MinimumHorizon"/> is what correctness needs (dedupe, tombstones, audit): a shorter
/// configured horizon fails the service at start, and <paramref name="Reason"/> says why in that message.
/// The age column should be indexed, so a batch finds its rows without reading the table.
/// </summary>
public sealed record RetentionRule(string Table, string AgeColumn, TimeSpan DefaultHorizon, TimeSpan MinimumHorizon, string Reason)
{
    public string Table { get; } = Identifier(Table, nameof(Table));

    public string AgeColumn { get; } = Identifier(AgeColumn, nameof(AgeColumn));

    /// <summary>Names go into SQL text, so only plain lower-case identifiers are accepted.</summary>
    private static string Identifier(string name, string parameter)
    {
        if (string.IsNullOrEmpty(name) || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') || char.IsDigit(name[0]))
        {
            throw new ArgumentException($"'{name}' is not a plain lower-case SQL identifier.", parameter);
        }
        return name;
    }
}
