using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Platform.Reliability.Tests.Corpus;
using Platform.Testing;

namespace Platform.Reliability.Tests;

/// <summary>What the platform answered to one corpus request.</summary>
public sealed record CorpusOutcome(CorpusRequest Request, HttpStatusCode Status, string? MediaType, string BodyStart, TimeSpan Elapsed)
{
    /// <summary>A 5xx, or an error whose body is not problem details.</summary>
    public bool Broken => Request switch
    {
        { RefusedByKestrel: true } => Status != HttpStatusCode.BadRequest,
        { MayBeCutOff: true } when (int)Status == NoAnswer => false,
        _ => (int)Status >= 500 || ((int)Status >= 400 && MediaType != "application/problem+json"),
    };

    /// <summary>Not an HTTP status: the connection ended without an answer.</summary>
    public const int NoAnswer = 599;

    public bool Succeeded => (int)Status is >= 200 and < 300;

    public override string ToString() => $"{Request} → {(int)Status} {MediaType} {BodyStart}";
}

/// <summary>Sends a corpus through the gateway, a few requests at a time, each anonymous one from an address of its own.</summary>
public sealed class CorpusRunner(ReliabilityPlatform platform, PlatformUser user)
{
    public async Task<IReadOnlyList<CorpusOutcome>> RunAsync(IReadOnlyList<CorpusRequest> corpus, int concurrency = 6)
    {
        var outcomes = new ConcurrentBag<CorpusOutcome>();
        await Parallel.ForEachAsync(Enumerable.Range(0, corpus.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (index, _) =>
            outcomes.Add(await SendAsync(corpus[index], index)));
        return [.. outcomes];
    }

    private async Task<CorpusOutcome> SendAsync(CorpusRequest item, int index)
    {
        var address = item.Caller == Caller.User ? user.ClientAddress : platform.NewClientAddress();
        using var request = platform.Request(item.Method, item.PathAndQuery, address, item.Caller == Caller.User ? user.AccessToken : null);
        if (item.Caller == Caller.Junk)
        {
            request.Headers.TryAddWithoutValidation("Authorization", BadInputCorpus.JunkAuthorizations[index % BadInputCorpus.JunkAuthorizations.Length]);
        }
        foreach (var (name, value) in item.Headers ?? [])
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (item.Body is { } body)
        {
            request.Content = item.Chunked ? new StreamContent(new GeneratedContentStream(body.Length)) : new ByteArrayContent(body);
            if (!string.IsNullOrEmpty(item.ContentType))
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", item.ContentType);
            }
        }
        request.Headers.ExpectContinue = item.Kind.Contains("Expect: 100-continue", StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        try
        {
            using var answer = await platform.Client.SendAsync(request);
            var text = await answer.Content.ReadAsStringAsync();
            return new CorpusOutcome(item, answer.StatusCode, answer.Content.Headers.ContentType?.MediaType, text[..Math.Min(text.Length, 160)], clock.Elapsed);
        }
        catch (HttpRequestException e)
        {
            // The server closed the connection without an answer: as bad as a 5xx for the client.
            return new CorpusOutcome(item, (HttpStatusCode)CorpusOutcome.NoAnswer, null, "no answer: " + e.Message, clock.Elapsed);
        }
        catch (TaskCanceledException)
        {
            return new CorpusOutcome(item, (HttpStatusCode)598, null, "no answer within the client's timeout", clock.Elapsed);
        }
    }
}
