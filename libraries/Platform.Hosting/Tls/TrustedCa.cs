using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Hosting;

/// <summary>
/// The CA of an external data store, given as PEM text in configuration (the chart takes it from a Secret or
/// ConfigMap key), trusted for that store's connections only.
/// </summary>
public static class TrustedCa
{
    /// <summary>The PEM written to a file under the temp directory, for clients that take a path (Npgsql's Root Certificate).</summary>
    public static string File(string store, string pem)
    {
        var directory = Path.Combine(Path.GetTempPath(), "platform-ca");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, store + ".crt");
        System.IO.File.WriteAllText(path, pem);
        return path;
    }

    public static X509Certificate2 Certificate(string pem) => X509Certificate2.CreateFromPem(pem);

    /// <summary>A server certificate check that accepts chains ending at this CA (and nothing else), with the host name checked.</summary>
    public static RemoteCertificateValidationCallback Validator(string pem)
    {
        var ca = Certificate(pem);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
    }
}
