using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Tests.TestSupport;

/// <summary>A watch read straight off the wire, to assert on event types and ERROR bodies exactly.</summary>
public sealed class RawWatch : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _reader;
    private volatile bool _ended;

    private RawWatch(HttpClient http, Stream stream)
    {
        _http = http;
        _reader = ReadAsync(stream);
    }

    public ConcurrentQueue<JsonObject> Events { get; } = new();

    /// <summary>Whether the server ended the stream.</summary>
    public bool Ended => _ended;

    public IEnumerable<string> Types => Events.Select(e => e["type"]!.GetValue<string>());

    public static async Task<RawWatch> OpenAsync(Uri baseAddress, string pathAndQuery)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var response = await http.GetAsync(pathAndQuery, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new RawWatch(http, await response.Content.ReadAsStreamAsync());
    }

    private async Task ReadAsync(Stream stream)
    {
        try
        {
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (line.Length > 0)
                {
                    Events.Enqueue(JsonNode.Parse(line)!.AsObject());
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Disposed or cut off: either way the stream is over.
        }
        finally
        {
            _ended = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await _reader;
        _http.Dispose();
        _cts.Dispose();
    }
}
