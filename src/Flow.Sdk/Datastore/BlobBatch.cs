namespace Flow.Sdk.Datastore;

/// <summary>
/// Blobs stored together and made durable together (<see cref="BlobStore.BeginBatch"/>): each new blob is written to
/// a temp file; <see cref="Commit"/> flushes them all to the disk (one <c>syncfs</c> when there are many), publishes
/// them under their keys and flushes their directories. A blob is never visible before its bytes are durable, so
/// no writer can reference a blob that a power cut would lose. Disposing without committing removes the temp files.
/// </summary>
internal sealed class BlobBatch : IDisposable
{
    private readonly BlobStore _store;
    // A class, not a value tuple: generic code over reference types is compiled ahead of time (docs/performance.md).
    private readonly List<PendingBlob> _pending = [];
    private readonly HashSet<string> _shas = new(StringComparer.Ordinal);
    private bool _ended;

    internal BlobBatch(BlobStore store, BlobBatch? outer)
    {
        _store = store;
        Outer = outer;
    }

    internal BlobBatch? Outer { get; }

    /// <summary>Gets the number of blobs waiting for <see cref="Commit"/>.</summary>
    public int Pending => _pending.Count;

    internal bool Holds(string sha) => _shas.Contains(sha) || Outer?.Holds(sha) == true;

    internal void Add(string sha, string temp, string final, bool durable)
    {
        if (!_shas.Add(sha))
        {
            _store.TryDelete(temp); // the same value twice in one batch: one blob
            return;
        }
        _pending.Add(new PendingBlob(sha, temp, final, durable));
    }

    /// <summary>Makes every blob of the batch durable and visible; a record naming them may be written after this.</summary>
    public void Commit()
    {
        var fs = _store.FileSystem;
        var unsynced = _pending.FindAll(p => !p.Durable);
        if (unsynced.Count >= FileSync.BatchThreshold)
        {
            FileSync.FileSystemOf(fs, _store.TempDirectory);
        }
        else
        {
            foreach (var blob in unsynced)
            {
                FileSync.Path(fs, blob.Temp);
            }
        }
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var blob in _pending)
        {
            _store.Publish(blob.Sha, blob.Temp);
            dirs.Add(fs.Path.GetDirectoryName(blob.Final)!);
        }
        if (dirs.Count >= FileSync.BatchThreshold)
        {
            FileSync.FileSystemOf(fs, _store.TempDirectory);
        }
        else
        {
            foreach (var dir in dirs)
            {
                FileSync.Path(fs, dir);
            }
        }
        _pending.Clear();
        _shas.Clear();
        End();
    }

    public void Dispose()
    {
        foreach (var blob in _pending)
        {
            _store.TryDelete(blob.Temp);
        }
        _pending.Clear();
        End();
    }

    private void End()
    {
        if (!_ended)
        {
            _ended = true;
            _store.EndBatch(this);
        }
    }
}

/// <summary>A blob of a batch: its key, its temp file, where it goes, whether its bytes are on the disk already.</summary>
internal sealed record PendingBlob(string Sha, string Temp, string Final, bool Durable);
