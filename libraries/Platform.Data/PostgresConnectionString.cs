using Microsoft.Extensions.Configuration;
using Npgsql;
using Platform.Hosting;

namespace Platform.Data;

/// <summary>
/// A PostgreSQL connection string from its parts: the server, user and options from ConnectionStrings:{name}, the
/// password from Postgres:Password and the CA that signs the server's certificate from Postgres:CaCertificate (PEM).
/// The chart passes the password as it is stored in its Secret; set on the builder, a ';', '=' or quote in it needs
/// no escaping, where spliced into the string it would end the value or break the parse.
/// </summary>
public static class PostgresConnectionString
{
    public static NpgsqlConnectionStringBuilder Build(IConfiguration configuration, string configured)
    {
        var connection = new NpgsqlConnectionStringBuilder(configured);
        if (configuration[ConfigurationKeys.PostgresPassword] is { Length: > 0 } password)
        {
            connection.Password = password;
        }
        if (configuration[ConfigurationKeys.PostgresCaCertificate] is { Length: > 0 } ca)
        {
            connection.RootCertificate = TrustedCa.File("postgres", ca);
        }
        return connection;
    }
}
