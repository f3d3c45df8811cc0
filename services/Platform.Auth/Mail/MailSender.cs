using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using NpgsqlTypes;
using Platform.Hosting;

namespace Platform.Auth.Mail;

/// <summary>
/// Delivers the mail outbox (docs/architecture.md §6.5). A round locks a batch of due rows (<c>FOR UPDATE SKIP
/// LOCKED</c>, so auth replicas send disjoint mails), sends them over one SMTP connection, deletes each row the relay
/// accepted and reschedules the others with exponential backoff, all in the transaction that holds the locks. A row
/// leaves the outbox only after the relay accepted its mail: a relay or database outage delays mail, and a crash
/// between the relay's acceptance and the commit sends that mail again with the same Message-Id — at least once, never lost.
/// </summary>
public sealed partial class MailSender(
    NpgsqlDataSource dataSource,
    MailWakeup wakeup,
    MailMetrics metrics,
    IOptions<MailOptions> options,
    ILogger<MailSender> logger) : BackgroundService
{
    private const int MaxErrorLength = 1_000;

    private const string LockBatchSql = """
        SELECT id, message_id, recipient, subject, text_body, html_body
        FROM mail_outbox
        WHERE next_attempt_at <= clock_timestamp()
        ORDER BY next_attempt_at, created_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """;

    /// <summary>The exponent is capped so a mail that failed for days cannot overflow the arithmetic.</summary>
    private const string RescheduleSql = """
        UPDATE mail_outbox
        SET attempts = attempts + 1,
            next_attempt_at = clock_timestamp() + least($3, $4 * power(2, least(attempts, 30))) * interval '1 second',
            last_error = $2
        WHERE id = ANY($1)
        """;

    private readonly MailOptions settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            LogNoRelay(logger);
            return;
        }
        var outage = new FailureStreak();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var more = await SendRoundAsync(stoppingToken);
                if (outage.Ended() is > 0 and var failures)
                {
                    LogDatabaseBack(logger, failures);
                }
                await CountPendingAsync(stoppingToken);
                if (!more)
                {
                    await wakeup.WaitAsync(settings.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // PostgreSQL is away (relay failures are handled per round): the mails are still in the outbox, so
                // keep going rather than stop sending while the service looks healthy.
                if (outage.Failed())
                {
                    LogDatabaseUnavailable(logger, e);
                }
                if (!await outage.WaitAsync(stoppingToken))
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round; true when the batch was full and all of it was sent, i.e. more mail is probably waiting.</summary>
    private async Task<bool> SendRoundAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        await using var transaction = await connection.BeginTransactionAsync(stoppingToken);
        var batch = await LockBatchAsync(connection, transaction, stoppingToken);
        if (batch.Count == 0)
        {
            await transaction.CommitAsync(stoppingToken);
            return false;
        }
        var sent = new List<Guid>(batch.Count);
        string? error = null;
        try
        {
            using var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
            await client.ConnectAsync(settings.Host!, settings.Port, SocketOptions(settings.Security), stoppingToken);
            if (!string.IsNullOrEmpty(settings.Username))
            {
                await client.AuthenticateAsync(settings.Username, settings.Password ?? "", stoppingToken);
            }
            foreach (var mail in batch)
            {
                await client.SendAsync(ToMessage(mail), stoppingToken);
                sent.Add(mail.Id);
            }
            await client.DisconnectAsync(quit: true, stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            error = $"{e.GetType().Name}: {e.Message}";
            error = error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];
        }

        // Once the relay accepted mail, record it even if the host is stopping: abandoning the round now would send
        // those mails a second time after the restart.
        await DeleteAsync(connection, transaction, sent);
        var unsent = batch.Select(m => m.Id).Except(sent).ToArray();
        await RescheduleAsync(connection, transaction, unsent, error ?? "not sent");
        await transaction.CommitAsync(CancellationToken.None);

        metrics.Sent(sent.Count);
        if (unsent.Length > 0)
        {
            metrics.Failed(unsent.Length);
            LogSendFailed(logger, unsent.Length, batch.Count, error ?? "not sent");
        }
        return batch.Count == settings.BatchSize && unsent.Length == 0;
    }

    private static SecureSocketOptions SocketOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };

    private MimeMessage ToMessage(PendingMail mail)
    {
        var message = new MimeMessage { MessageId = mail.MessageId, Subject = mail.Subject };
        message.From.Add(MailboxAddress.Parse(settings.From));
        message.To.Add(MailboxAddress.Parse(mail.Recipient));
        message.Body = new BodyBuilder { TextBody = mail.TextBody, HtmlBody = mail.HtmlBody }.ToMessageBody();
        return message;
    }

    private sealed record PendingMail(Guid Id, string MessageId, string Recipient, string Subject, string TextBody, string HtmlBody);

    private async Task<List<PendingMail>> LockBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LockBatchSql, connection, transaction) { Parameters = { new() { Value = settings.BatchSize } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var batch = new List<PendingMail>();
        while (await reader.ReadAsync(cancellationToken))
        {
            batch.Add(new PendingMail(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }
        return batch;
    }

    private static async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Guid> sent)
    {
        if (sent.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand("DELETE FROM mail_outbox WHERE id = ANY($1)", connection, transaction) { Parameters = { new() { Value = sent.ToArray() } } };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task RescheduleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] unsent, string error)
    {
        if (unsent.Length == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(RescheduleSql, connection, transaction)
        {
            Parameters =
            {
                new() { Value = unsent },
                new() { Value = error },
                new() { Value = settings.MaxRetryDelay.TotalSeconds, NpgsqlDbType = NpgsqlDbType.Double },
                new() { Value = settings.RetryBaseDelay.TotalSeconds, NpgsqlDbType = NpgsqlDbType.Double },
            },
        };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task CountPendingAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM mail_outbox");
        metrics.SetPending((long)(await command.ExecuteScalarAsync(cancellationToken))!);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail: no SMTP relay configured (Mail:Host); mail stays in the outbox")]
    private static partial void LogNoRelay(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail: {Unsent} of {Batch} mails were not sent and will be retried: {Error}")]
    private static partial void LogSendFailed(ILogger logger, int unsent, int batch, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail sender cannot read the outbox; mail waits there and it keeps retrying")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail sender reads the outbox again after {Failures} failed attempts")]
    private static partial void LogDatabaseBack(ILogger logger, int failures);
}
