using System.Buffers;
using System.IO.Abstractions;
using System.Security.Cryptography;

namespace Flow.Sdk.Datastore;

/// <summary>
/// A stream that stores what is written to it as one blob. Up to one chunk it stays in memory and is stored like
/// any value (hash first); beyond that it goes to a temp file chunk by chunk, each chunk hashed on one core while it
/// is compressed on another, and <see cref="Commit"/> publishes the file under its hash (or drops it when a blob
/// with that hash exists). Disposing without committing leaves nothing behind.
/// </summary>
internal sealed class BlobWriter : Stream
{
    private readonly BlobStore _store;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BlobStore.ChunkSize);
    private int _filled;
    private long _length;
    private FileSystemStream? _temp;
    private string? _tempPath;
    private bool _compress;
    private bool _done;

    internal BlobWriter(BlobStore store) => _store = store;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, BlobStore.ChunkSize - _filled);
            buffer[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            _length += n;
            buffer = buffer[n..];
            if (_filled == BlobStore.ChunkSize)
            {
                Spill();
            }
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    private void Spill()
    {
        var chunk = _buffer.AsMemory(0, _filled);
        if (_temp is null)
        {
            _compress = BlobStore.ShouldCompress(chunk.Span);
            _store.Protect();
            _tempPath = AtomicFile.TempPath(_store.FileSystem, _store.TempDirectory);
            _temp = _store.FileSystem.FileStream.New(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            BlobStore.WriteHeader(_temp, _compress, -1);
        }
        // Hash on one core while the chunk is compressed and written on this one.
        var hashing = Task.Run(() => _hash.AppendData(chunk.Span));
        try
        {
            var at = _temp.Position;
            if (_compress)
            {
                BlobStore.CompressChunks(chunk, _temp);
            }
            else
            {
                _temp.Write(chunk.Span);
            }
            _temp.Flush();
            FileSync.StartWriteback(_temp, at, _temp.Position - at);
        }
        finally
        {
            hashing.Wait();
        }
        _filled = 0;
    }

    /// <summary>Stores what was written and returns its hash and length.</summary>
    public (string Sha, long Length) Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_temp is null)
        {
            var sha = _store.Put(_buffer.AsMemory(0, _filled));
            Dispose();
            return (sha, _length);
        }
        if (_filled > 0)
        {
            Spill();
        }
        var key = Convert.ToHexStringLower(_hash.GetHashAndReset());
        BlobStore.PatchLength(_temp, _length);
        if (_store.Reuse(key))
        {
            _temp.Dispose();
            _store.TryDelete(_tempPath!);
        }
        else
        {
            // Its chunks were handed to the disk as they were written: this waits only for the last ones.
            FileSync.Data(_temp);
            _temp.Dispose();
            if (_store.CurrentBatch is { } batch)
            {
                batch.Add(key, _tempPath!, _store.PathOf(key), durable: true);
            }
            else
            {
                _store.PublishAlone(key, _tempPath!, durable: true);
            }
        }
        _temp = null;
        _tempPath = null;
        var length = _length;
        Dispose();
        return (key, length);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_done)
        {
            _done = true;
            _temp?.Dispose();
            if (_tempPath is not null)
            {
                _store.TryDelete(_tempPath);
            }
            _hash.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
        base.Dispose(disposing);
    }
}
