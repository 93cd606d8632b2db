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
    // The batch is the current one of an execution context, and a task or timer started inside it carries it along:
    // a blob stored from another thread must neither tear the lists nor be published twice (or never).
    private readonly Lock _gate = new();
    private bool _ended;

    internal BlobBatch(BlobStore store, BlobBatch? outer)
    {
        _store = store;
        Outer = outer;
    }

    internal BlobBatch? Outer { get; }

    /// <summary>Gets the number of blobs waiting for <see cref="Commit"/>.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Whether the blob waits in this batch (or an outer one) to be published with it.</summary>
    internal bool Holds(string sha)
    {
        lock (_gate)
        {
            if (!_ended && _shas.Contains(sha))
            {
                return true;
            }
        }
        return Outer?.Holds(sha) == true;
    }

    internal void Add(string sha, string temp, string final, bool durable)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                if (_shas.Add(sha))
                {
                    _pending.Add(new PendingBlob(sha, temp, final, durable));
                }
                else
                {
                    _store.TryDelete(temp); // the same value twice in one batch: one blob
                }
                return;
            }
        }
        // Stored after the batch ended, from a context that still carries it: published now, alone.
        _store.PublishAlone(sha, temp, durable);
    }

    /// <summary>Makes every blob of the batch durable and visible; a record naming them may be written after this.</summary>
    public void Commit()
    {
        List<PendingBlob> pending;
        lock (_gate)
        {
            pending = [.. _pending];
        }
        var fs = _store.FileSystem;
        var unsynced = pending.FindAll(p => !p.Durable);
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
        foreach (var blob in pending)
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
        List<PendingBlob> late;
        lock (_gate)
        {
            // Whatever another thread added while these were published goes now too: nothing is left unpublished.
            late = _pending.Skip(pending.Count).ToList();
            _pending.Clear();
            _shas.Clear();
            _ended = true;
        }
        foreach (var blob in late)
        {
            _store.PublishAlone(blob.Sha, blob.Temp, blob.Durable);
        }
        _store.EndBatch(this);
    }

    public void Dispose()
    {
        List<PendingBlob> pending;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }
            pending = [.. _pending];
            _pending.Clear();
            _shas.Clear();
            _ended = true;
        }
        foreach (var blob in pending)
        {
            _store.TryDelete(blob.Temp);
        }
        _store.EndBatch(this);
    }
}

/// <summary>A blob of a batch: its key, its temp file, where it goes, whether its bytes are on the disk already.</summary>
internal sealed record PendingBlob(string Sha, string Temp, string Final, bool Durable);
