using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// A worker's cache of small blobs (verified once, when first read) and of records parsed from them, so the
/// values every task of a run reads alike (parameters, a foreach's item list) are not read and parsed per task.
/// Blobs are immutable, so an entry never goes stale; the cache is emptied when it grows past its budget.
/// </summary>
internal sealed class BlobCache
{
    public const int MaxEntryBytes = 1 << 20;
    private const long MaxBytes = 64L << 20;
    private const int MaxParsed = 256;
    private readonly Dictionary<string, byte[]> _bytes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _parsed = new(StringComparer.Ordinal);
    private long _size;

    /// <summary>The blob's bytes; from the cache when it is small and was read before.</summary>
    public byte[] Get(FlowDatastore store, string sha)
    {
        if (_bytes.TryGetValue(sha, out var cached))
        {
            return cached;
        }
        var bytes = store.Blobs.Get(sha);
        if (bytes.Length <= MaxEntryBytes)
        {
            if (_size + bytes.Length > MaxBytes)
            {
                _bytes.Clear();
                _size = 0;
            }
            _bytes[sha] = bytes;
            _size += bytes.Length;
        }
        return bytes;
    }

    /// <summary>A record parsed from a blob, parsed once. The caller must treat it as immutable.</summary>
    public T Parsed<T>(string sha, Func<T> parse)
        where T : class
    {
        if (_parsed.TryGetValue(sha, out var cached) && cached is T value)
        {
            return value;
        }
        if (_parsed.Count >= MaxParsed)
        {
            _parsed.Clear();
        }
        value = parse();
        _parsed[sha] = value;
        return value;
    }
}
