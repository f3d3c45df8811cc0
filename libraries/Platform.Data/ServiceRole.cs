using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Platform.Data;

/// <summary>
/// The login role a service runs as (Postgres:ServiceRole), set up by its <c>migrate</c> command, which connects as an
/// administrator: a superuser, or a role with CREATEROLE and CREATEDB (a managed server's admin). The role owns the
/// service's database and everything in it, and no other service's role may connect to that database (superusers and
/// the administrator, a member of the role, still may): a service that is broken into reaches its own data only. Every step is idempotent, so each migration run re-asserts it, and the
/// password always follows the Secret's.
/// </summary>
/// <param name="ConnectionLimit">
/// Connections the role may hold on one server at once (its CONNECTION LIMIT; -1: no limit): a service scaled past its
/// plan, or leaking connections, is refused new ones instead of taking the other services' share of max_connections.
/// </param>
public sealed record ServiceRole(string Name, string Password, int ConnectionLimit = -1)
{
    /// <summary>Makes or updates the role, on the administrator's connection to <c>postgres</c>, before anything else is made.</summary>
    public async Task PrepareAsync(NpgsqlConnection maintenance, CancellationToken cancellationToken)
    {
        var role = Quoted(Name);
        if (await ScalarAsync(maintenance, "SELECT current_user = $1", cancellationToken, Name) is true)
        {
            throw new InvalidOperationException($"Postgres:ServiceRole '{Name}' is the administrator migrations connect as: the service needs a role of its own.");
        }
        var exists = await ScalarAsync(maintenance, "SELECT 1 FROM pg_roles WHERE rolname = $1", cancellationToken, Name) is not null;
        var superuser = await ScalarAsync(maintenance, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken) is true;
        // Only a superuser may name the SUPERUSER attribute, even to deny it; a new role has none of these anyway.
        var attributes = (superuser ? "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" : "LOGIN NOCREATEDB NOCREATEROLE")
            + $" CONNECTION LIMIT {ConnectionLimit.ToString(CultureInfo.InvariantCulture)}";
        // A SCRAM verifier, not the password: a server that logs DDL (log_statement = ddl) must not log the secret.
        await ExecuteAsync(maintenance, $"{(exists ? "ALTER" : "CREATE")} ROLE {role} WITH {attributes} PASSWORD {Literal(ScramVerifier(Password))}", cancellationToken);
        if (!superuser)
        {
            // Giving a database or an object to a role, or SET ROLE to it, needs membership in it when not a superuser.
            await ExecuteAsync(maintenance, $"GRANT {role} TO CURRENT_USER", cancellationToken);
        }
    }

    /// <summary>Gives the role the service's database, which no other role's login may then open unless it inherits the role's rights.</summary>
    public async Task TakeDatabaseAsync(NpgsqlConnection maintenance, string database, CancellationToken cancellationToken)
    {
        var (role, db) = (Quoted(Name), Quoted(database));
        await ExecuteAsync(maintenance, $"ALTER DATABASE {db} OWNER TO {role}", cancellationToken);
        // PUBLIC may connect to a new database by default: every other service's role could have read this one's tables
        // wherever they were granted to PUBLIC, and could open connections against its limit.
        await ExecuteAsync(maintenance, $"REVOKE ALL ON DATABASE {db} FROM PUBLIC", cancellationToken);
    }

    /// <summary>
    /// On the administrator's connection to the service's database: gives the role every schema, table, sequence,
    /// view, routine and type that another role owns (a database migrated before roles existed, as the administrator),
    /// then switches the session to the role, so what the migrations create is the role's.
    /// </summary>
    public async Task AdoptObjectsAndBecomeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var role = Quoted(Name);
        List<string> statements = [];
        await using (var command = new NpgsqlCommand(AdoptionQuery, connection) { Parameters = { new() { Value = Name } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                statements.Add($"ALTER {reader.GetString(0)} {reader.GetString(1)} OWNER TO {role}");
            }
        }
        if (statements.Count > 0)
        {
            // Each ALTER locks its table exclusively while the previous release still serves from it: one transaction,
            // and a lock that does not come within the migrations' timeout fails the run (its Job retries) rather than
            // queue every query on the table behind a long transaction.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, $"SET LOCAL lock_timeout = '{SchemaMigrator.LockTimeout}'", cancellationToken);
            foreach (var statement in statements)
            {
                await ExecuteAsync(connection, statement, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        await ExecuteAsync(connection, $"SET ROLE {role}", cancellationToken);
    }

    /// <summary>
    /// Each object outside the system schemas not owned by the role: its kind for ALTER and its quoted name. A
    /// sequence that belongs to a column (serial, identity) follows its table; a schema owned by pg_database_owner
    /// (public, from PostgreSQL 15) is the database owner's already; what an extension installed stays the extension's;
    /// and only what the administrator may give: a managed server's administrator does not own its bootstrap
    /// superuser's objects (public, before PostgreSQL 15, where PUBLIC may create in it). Schemas first: a table's new
    /// owner needs CREATE on its schema.
    /// </summary>
    private const string AdoptionQuery = """
        WITH target AS (SELECT oid FROM pg_roles WHERE rolname = $1),
        keep AS (SELECT oid FROM pg_roles WHERE rolname = 'pg_database_owner'),
        schemas AS (
            SELECT oid, nspname, nspowner FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%'
        ),
        extension_members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
        adoptable AS (
            SELECT 0 AS step, 'SCHEMA' AS kind, quote_ident(s.nspname) AS name, s.nspowner AS owner FROM schemas s
            WHERE s.nspowner NOT IN (SELECT oid FROM target UNION ALL SELECT oid FROM keep)
              AND s.oid NOT IN (SELECT objid FROM extension_members WHERE classid = 'pg_namespace'::regclass)
            UNION ALL
            SELECT 1, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                   quote_ident(s.nspname) || '.' || quote_ident(c.relname), c.relowner
            FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relowner NOT IN (SELECT oid FROM target)
              AND c.oid NOT IN (SELECT objid FROM extension_members WHERE classid = 'pg_class'::regclass)
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
            UNION ALL
            SELECT 2, CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END, p.oid::regprocedure::text, p.proowner
            FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace
            WHERE p.proowner NOT IN (SELECT oid FROM target)
              AND p.oid NOT IN (SELECT objid FROM extension_members WHERE classid = 'pg_proc'::regclass)
            UNION ALL
            SELECT 2, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text, t.typowner
            FROM pg_type t JOIN schemas s ON s.oid = t.typnamespace
            WHERE t.typtype IN ('e', 'd') AND t.typowner NOT IN (SELECT oid FROM target)
              AND t.oid NOT IN (SELECT objid FROM extension_members WHERE classid = 'pg_type'::regclass)
        )
        SELECT kind, name FROM adoptable WHERE pg_has_role(current_user, owner, 'USAGE') ORDER BY step, name
        """;

    /// <summary>
    /// PostgreSQL's SCRAM-SHA-256 verifier of <paramref name="password"/> (RFC 5803), as <c>psql</c>'s \password sends
    /// it. The server applies SASLprep to a password before hashing; for printable ASCII (every generated password)
    /// that changes nothing. Any other password is sent as it is, and the server computes the verifier: this code
    /// does not implement SASLprep.
    /// </summary>
    internal static string ScramVerifier(string password, byte[]? salt = null)
    {
        if (!password.All(c => c is >= ' ' and <= '~'))
        {
            return password;
        }
        const int Iterations = 4096;
        salt ??= RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    /// <summary>
    /// Fails on a name that is not a plain lower-case identifier, on an empty password, and on a connection limit that
    /// is not -1 (none) or a positive number: all come from deployment values.
    /// </summary>
    public static ServiceRole Of(string name, string? password, string? connectionLimit = null)
    {
        if (!MigrateCommand.IsPlainIdentifier(name) || name.StartsWith("pg_", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Postgres:ServiceRole '{name}' must be lower-case letters, digits and underscores, and not begin with a digit or pg_.");
        }
        if (string.IsNullOrEmpty(password) || password.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Postgres:ServiceRolePassword must be set (without NUL characters) for the role '{name}'.");
        }
        var limit = -1;
        if (!string.IsNullOrEmpty(connectionLimit)
            && !(int.TryParse(connectionLimit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit) && (limit == -1 || limit > 0)))
        {
            throw new InvalidOperationException($"Postgres:ServiceRoleConnectionLimit '{connectionLimit}' must be -1 (no limit) or a positive number of connections for the role '{name}'.");
        }
        return new ServiceRole(name, password, limit);
    }

    private static string Quoted(string identifier) => "\"" + identifier + "\"";

    /// <summary>An escape string literal: the same text whatever the server's standard_conforming_strings.</summary>
    private static string Literal(string value) =>
        "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}
