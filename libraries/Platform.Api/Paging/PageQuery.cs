using System.Globalization;

namespace Platform.Api.Paging;

/// <summary>The <c>cursor</c> and <c>limit</c> of a paged list (tasks, the admin's users and audit log), checked one way.</summary>
public readonly record struct PageQuery(Guid? After, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static PageQuery Parse(string? cursor, string? limit, IDictionary<string, string[]> errors)
    {
        Guid? after = null;
        if (cursor is not null)
        {
            if (PageCursor.TryDecode(cursor, out var lastId))
            {
                after = lastId;
            }
            else
            {
                errors["cursor"] = ["The cursor is not one this API gave out; start again without it."];
            }
        }
        var size = DefaultLimit;
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) && size is >= 1 and <= MaxLimit))
        {
            errors["limit"] = [$"The limit must be a whole number from 1 to {MaxLimit}."];
        }
        return new PageQuery(after, size);
    }

    /// <summary>Pages are fetched one item long: the extra item only says there is a next page.</summary>
    public (List<T> Items, string? NextCursor) Cut<T>(List<T> fetched, Func<T, Guid> id) =>
        fetched.Count > Limit ? (fetched.GetRange(0, Limit), PageCursor.Encode(id(fetched[Limit - 1]))) : (fetched, null);
}
