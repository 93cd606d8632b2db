using System.Buffers;
using System.Buffers.Binary;
using System.IO.Abstractions;
using System.Security.Cryptography;
using ZstdSharp;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The content-addressed store: one file per distinct serialized value, keyed by the SHA-256 of its
/// uncompressed bytes, zstd-compressed unless that saves too little, written atomically, verified on read.
/// </summary>
/// <remarks>
/// A blob file is a 16-byte header (<c>FLB1</c>, codec byte, 3 reserved bytes, uncompressed length as a
/// little-endian int64) followed by the payload: the bytes themselves (raw), or zstd frames of at most
/// <see cref="ChunkSize"/> uncompressed bytes each, compressed in parallel. Blobs are immutable: a blob that exists
/// is never written again (its modification time is refreshed instead, which <c>gc</c> relies on). Memory stays
/// bounded by a few chunks whatever the blob's size (docs/datastore.md, "Blobs").
/// </remarks>
internal sealed class BlobStore
{
    /// <summary>The uncompressed size of one zstd frame, and the unit of parallel compression and hashing.</summary>
    public const int ChunkSize = 4 << 20;

    /// <summary>The zstd level: chosen by measurement (bench/README.md), level 1.</summary>
    public const int CompressionLevel = 1;

    private const int HeaderSize = 16;
    private const byte CodecRaw = 0;
    private const byte CodecZstd = 1;
    private const int SampleSize = 64 << 10;
    private const int ReadPiece = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "FLB1"u8;

    [ThreadStatic]
    private static Compressor? t_compressor;

    private readonly IFileSystem _fs;
    private readonly string _blobs;
    private readonly string _tmp;

    public BlobStore(IFileSystem fs, string datastoreRoot)
    {
        _fs = fs;
        _blobs = fs.Path.Combine(datastoreRoot, "blobs");
        _tmp = fs.Path.Combine(datastoreRoot, "tmp");
    }

    internal IFileSystem FileSystem => _fs;

    internal string TempDirectory => _tmp;

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>A blob key is 64 lowercase hex digits; anything else (a damaged record) never becomes a path.</summary>
    public static bool IsKey(string sha) => sha.Length == 64 && sha.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public string PathOf(string sha) => IsKey(sha) ? _fs.Path.Combine(_blobs, sha[..2], sha) : throw new BlobCorruptException(sha, "its key is not a SHA-256");

    public bool Exists(string sha) => _fs.File.Exists(PathOf(sha));

    /// <summary>
    /// True when the blob exists; its modification time is then refreshed, so that <c>gc</c>, which never removes a
    /// blob touched after it started, cannot remove a blob a task is about to reference.
    /// </summary>
    public bool Reuse(string sha)
    {
        var path = PathOf(sha);
        if (!_fs.File.Exists(path))
        {
            return false;
        }
        try
        {
            _fs.File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false; // collected in between: write it again
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // a read-only datastore still has the blob
        }
    }

    /// <summary>Stores <paramref name="data"/> unless a blob with its hash exists; returns the hash.</summary>
    /// <remarks>The hash comes first, so an existing blob costs one pass of SHA-256 and is never compressed again.</remarks>
    public string Put(ReadOnlyMemory<byte> data)
    {
        var sha = Hash(data.Span);
        if (!Reuse(sha))
        {
            var temp = AtomicFile.TempPath(_fs, _tmp);
            try
            {
                using (var output = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    var compress = ShouldCompress(data.Span);
                    WriteHeader(output, compress, data.Length);
                    if (compress)
                    {
                        CompressChunks(data, output);
                    }
                    else
                    {
                        output.Write(data.Span);
                    }
                }
                AtomicFile.Publish(_fs, temp, PathOf(sha), overwrite: false);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }
        return sha;
    }

    /// <summary>
    /// A stream that stores what is written to it as one blob: hashed and compressed chunk by chunk as it arrives,
    /// so a value of any size is stored with memory bounded by buffers. <see cref="BlobWriter.Commit"/> names it.
    /// </summary>
    public BlobWriter Create() => new(this);

    /// <summary>
    /// Stores a file's bytes as a blob without holding them in memory: one pass hashes it, and only when the blob
    /// is new a second pass stores it (compressed, or raw when it hardly compresses).
    /// </summary>
    /// <returns>The hash and the length of the content.</returns>
    public (string Sha, long Length) PutFile(string path)
    {
        using var input = _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var (sha, length) = PutSeekable(input);
        if (input.Length != length)
        {
            throw new IOException($"{path} changed while it was being stored");
        }
        return (sha, length);
    }

    /// <summary>
    /// Stores a stream's remaining bytes: a seekable stream is hashed first and stored only when new; any other
    /// stream in one pass through a <see cref="BlobWriter"/>.
    /// </summary>
    /// <returns>The hash and the length of the content.</returns>
    public (string Sha, long Length) PutStream(Stream input)
    {
        if (input.CanSeek)
        {
            return PutSeekable(input);
        }
        using var writer = Create();
        input.CopyTo(writer, ChunkSize);
        return writer.Commit();
    }

    private (string Sha, long Length) PutSeekable(Stream input)
    {
        var start = input.Position;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            string sha;
            long length = 0;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                int read;
                while ((read = input.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                }
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (Reuse(sha))
            {
                return (sha, length);
            }
            input.Position = start;
            var temp = AtomicFile.TempPath(_fs, _tmp);
            try
            {
                using (var output = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    var first = input.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                    var compress = ShouldCompress(buffer.AsSpan(0, first));
                    WriteHeader(output, compress, length);
                    long copied = 0;
                    var read = first;
                    while (read > 0)
                    {
                        if (compress)
                        {
                            CompressChunks(buffer.AsMemory(0, read), output);
                        }
                        else
                        {
                            output.Write(buffer, 0, read);
                        }
                        copied += read;
                        read = input.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                    }
                    if (copied != length)
                    {
                        throw new IOException("the content changed while it was being stored");
                    }
                }
                AtomicFile.Publish(_fs, temp, PathOf(sha), overwrite: false);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
            return (sha, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Opens a blob for reading as a stream; the bytes are verified against the hash as they are read, and a
    /// damaged or truncated blob throws <see cref="BlobCorruptException"/> at the latest when its end is reached.
    /// </summary>
    /// <returns>A read-only stream of the blob's uncompressed bytes.</returns>
    public Stream OpenRead(string sha)
    {
        var (file, compressed, length) = OpenBlob(sha);
        Stream content = compressed ? new DecompressionStream(file, leaveOpen: false) : file;
        return new VerifyingStream(content, sha, length);
    }

    /// <summary>The uncompressed length recorded in a blob's header.</summary>
    public long LengthOf(string sha)
    {
        var (file, _, length) = OpenBlob(sha);
        file.Dispose();
        return length;
    }

    /// <summary>Reads and verifies a blob into one new array; a missing, truncated or corrupt blob throws <see cref="BlobCorruptException"/>.</summary>
    public byte[] Get(string sha)
    {
        byte[]? data = null;
        ReadCore(sha, length =>
        {
            if (length > Array.MaxLength)
            {
                throw new BlobCorruptException(sha, $"it holds {length} bytes, more than one array can");
            }
            data = GC.AllocateUninitializedArray<byte>((int)length);
            return data;
        });
        return data!;
    }

    /// <summary>
    /// Reads and verifies a blob into <paramref name="allocate"/>'s memory (given the blob's length), so a large value
    /// is read straight into its final array: hashing runs beside the reading, chunk by chunk.
    /// </summary>
    public void ReadCore(string sha, Func<long, Memory<byte>> allocate)
    {
        var (file, compressed, length) = OpenBlob(sha);
        using (file)
        {
            var destination = allocate(length);
            if (destination.Length != length)
            {
                throw new BlobCorruptException(sha, $"its length {length} does not fit the value it should hold ({destination.Length} bytes)");
            }
            using var source = compressed ? new DecompressionStream(file, bufferSize: 1 << 17, leaveOpen: true) : file;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var hashing = Task.CompletedTask;
            try
            {
                for (var offset = 0; offset < destination.Length; offset += ChunkSize)
                {
                    var chunk = destination.Slice(offset, Math.Min(ChunkSize, destination.Length - offset));
                    // Read in pieces smaller than a frame: given room for a whole frame, zstd decodes straight into
                    // the destination, which is several times slower for long repeats.
                    for (var piece = 0; piece < chunk.Length; piece += ReadPiece)
                    {
                        var part = chunk.Span.Slice(piece, Math.Min(ReadPiece, chunk.Length - piece));
                        if (source.ReadAtLeast(part, part.Length, throwOnEndOfStream: false) != part.Length)
                        {
                            throw new BlobCorruptException(sha, "its content is shorter than recorded (truncated)");
                        }
                    }
                    // Hash the chunk just read while the next one is read; chunks are hashed in order.
                    hashing = destination.Length <= ChunkSize
                        ? HashNow(hash, chunk)
                        : hashing.ContinueWith(_ => hash.AppendData(chunk.Span), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                }
                if (source.ReadByte() >= 0)
                {
                    throw new BlobCorruptException(sha, "its content is longer than recorded");
                }
            }
            catch (Exception e) when (e is ZstdException or InvalidDataException or EndOfStreamException)
            {
                throw new BlobCorruptException(sha, "the compressed data is damaged or cut short: " + e.Message);
            }
            finally
            {
                hashing.Wait();
            }
            if (Convert.ToHexStringLower(hash.GetHashAndReset()) != sha)
            {
                throw new BlobCorruptException(sha, "its content does not match its hash (modified)");
            }
        }
    }

    private static Task HashNow(IncrementalHash hash, ReadOnlyMemory<byte> chunk)
    {
        hash.AppendData(chunk.Span);
        return Task.CompletedTask;
    }

    private (Stream File, bool Compressed, long Length) OpenBlob(string sha)
    {
        var path = PathOf(sha);
        Stream file;
        try
        {
            file = _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobCorruptException(sha, "the blob is missing");
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        long length = 0;
        if (file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize || !header[..4].SequenceEqual(Magic) || header[4] > CodecZstd
            || (length = BinaryPrimitives.ReadInt64LittleEndian(header[8..])) < 0)
        {
            file.Dispose();
            throw new BlobCorruptException(sha, "the blob header is damaged");
        }
        return (file, header[4] == CodecZstd, length);
    }

    internal static void WriteHeader(Stream output, bool compressed, long length)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        header[4] = compressed ? CodecZstd : CodecRaw;
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], length);
        output.Write(header);
    }

    /// <summary>Rewrites the length in a header written before the length was known.</summary>
    internal static void PatchLength(Stream output, long length)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, length);
        output.Position = 8;
        output.Write(bytes);
    }

    /// <summary>
    /// Whether storing compressed pays: a few samples spread over the data are compressed, and data that saves less
    /// than 1/32 of its size (already compressed, random) is stored raw, so reading it back is a plain copy.
    /// </summary>
    internal static bool ShouldCompress(ReadOnlySpan<byte> data)
    {
        if (data.Length < 64)
        {
            return false;
        }
        const int samples = 4;
        long taken = 0;
        long packed = 0;
        var compressor = t_compressor ??= new Compressor(CompressionLevel);
        var output = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(SampleSize));
        try
        {
            if (data.Length <= samples * SampleSize)
            {
                taken = Math.Min(data.Length, SampleSize);
                packed = compressor.Wrap(data[..(int)taken], output);
            }
            else
            {
                var step = (data.Length - SampleSize) / (samples - 1);
                for (var i = 0; i < samples; i++)
                {
                    packed += compressor.Wrap(data.Slice(i * step, SampleSize), output);
                    taken += SampleSize;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
        return packed < taken - (taken / 32);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as zstd frames of <see cref="ChunkSize"/> bytes each, compressed on every core
    /// a batch at a time and written in order: memory is one output buffer per core.
    /// </summary>
    internal static void CompressChunks(ReadOnlyMemory<byte> data, Stream output)
    {
        var chunks = (data.Length + ChunkSize - 1) / ChunkSize;
        var parallel = Math.Clamp(Math.Min(Environment.ProcessorCount, chunks), 1, 8);
        var buffers = new byte[parallel][];
        var lengths = new int[parallel];
        try
        {
            for (var i = 0; i < parallel; i++)
            {
                buffers[i] = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(Math.Min(ChunkSize, data.Length)));
            }
            for (var first = 0; first < chunks; first += parallel)
            {
                var batch = Math.Min(parallel, chunks - first);
                if (batch == 1)
                {
                    lengths[0] = CompressChunk(data, first, buffers[0]);
                }
                else
                {
                    Parallel.For(0, batch, i => lengths[i] = CompressChunk(data, first + i, buffers[i]));
                }
                for (var i = 0; i < batch; i++)
                {
                    output.Write(buffers[i], 0, lengths[i]);
                }
            }
        }
        finally
        {
            foreach (var buffer in buffers)
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    private static int CompressChunk(ReadOnlyMemory<byte> data, int index, byte[] output)
    {
        var offset = index * ChunkSize;
        var chunk = data.Span.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
        return (t_compressor ??= new Compressor(CompressionLevel)).Wrap(chunk, output);
    }

    internal void TryDelete(string path)
    {
        try
        {
            _fs.File.Delete(path);
        }
        catch (IOException)
        {
            // Left for gc, which removes old temp files.
        }
    }
}

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
    private Stream? _temp;
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
            _tempPath = AtomicFile.TempPath(_store.FileSystem, _store.TempDirectory);
            _temp = _store.FileSystem.FileStream.New(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            BlobStore.WriteHeader(_temp, _compress, -1);
        }
        // Hash on one core while the chunk is compressed and written on this one.
        var hashing = Task.Run(() => _hash.AppendData(chunk.Span));
        try
        {
            if (_compress)
            {
                BlobStore.CompressChunks(chunk, _temp);
            }
            else
            {
                _temp.Write(chunk.Span);
            }
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
        _temp.Dispose();
        _temp = null;
        if (_store.Reuse(key))
        {
            _store.TryDelete(_tempPath!);
        }
        else
        {
            AtomicFile.Publish(_store.FileSystem, _tempPath!, _store.PathOf(key), overwrite: false);
        }
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

/// <summary>A read-only stream over a blob's content that checks its length and hash when the end is reached.</summary>
internal sealed class VerifyingStream(Stream inner, string sha, long length) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            // At most 1 MiB at a time: zstd decodes a whole frame straight into a large buffer several times slower.
            read = inner.Read(buffer[..Math.Min(buffer.Length, 1 << 20)]);
        }
        catch (Exception e) when (e is ZstdException or InvalidDataException or EndOfStreamException)
        {
            throw new BlobCorruptException(sha, "the compressed data is damaged or cut short: " + e.Message);
        }
        _hash.AppendData(buffer[..read]);
        _read += read;
        if (_read > length)
        {
            throw new BlobCorruptException(sha, "its content is longer than recorded");
        }
        if (read == 0 && buffer.Length > 0 && !_verified)
        {
            _verified = true;
            if (_read != length || Convert.ToHexStringLower(_hash.GetHashAndReset()) != sha)
            {
                throw new BlobCorruptException(sha, "its content does not match its hash (truncated or modified)");
            }
        }
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A blob that is missing or whose bytes do not match its hash.</summary>
internal sealed class BlobCorruptException(string sha, string reason)
    : Exception($"blob {(sha.Length > 12 ? sha[..12] : sha)} is damaged: {reason}")
{
    public string Sha { get; } = sha;
}
