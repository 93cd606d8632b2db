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
    private readonly Action _protect;
    private readonly AsyncLocal<BlobBatch?> _batch = new();

    /// <summary>Initializes a new instance of the <see cref="BlobStore"/> class.</summary>
    /// <param name="fs">The file system.</param>
    /// <param name="datastoreRoot">The <c>.flow</c> directory.</param>
    /// <param name="protect">Takes the writer's lease before its first write (<see cref="FlowDatastore.Protect"/>).</param>
    public BlobStore(IFileSystem fs, string datastoreRoot, Action? protect = null)
    {
        _fs = fs;
        _blobs = fs.Path.Combine(datastoreRoot, "blobs");
        _tmp = fs.Path.Combine(datastoreRoot, "tmp");
        _protect = protect ?? (() => { });
    }

    internal IFileSystem FileSystem => _fs;

    internal string TempDirectory => _tmp;

    internal BlobBatch? CurrentBatch => _batch.Value;

    /// <summary>Takes the writer's lease (before a streamed write starts its temp file).</summary>
    internal void Protect() => _protect();

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>A blob key is 64 lowercase hex digits; anything else (a damaged record) never becomes a path.</summary>
    public static bool IsKey(string sha) => sha.Length == 64 && sha.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public string PathOf(string sha) => IsKey(sha) ? _fs.Path.Combine(_blobs, sha[..2], sha) : throw new BlobCorruptException(sha, "its key is not a SHA-256");

    public bool Exists(string sha) => _fs.File.Exists(PathOf(sha));

    /// <summary>
    /// Starts a batch: blobs stored until <see cref="BlobBatch.Commit"/> are written to temp files and made durable
    /// together (one <c>syncfs</c> instead of one <c>fsync</c> each when there are many), then published. A task
    /// stores all its artifacts and foreach items in one batch and commits it before its <c>done.json</c>.
    /// </summary>
    public BlobBatch BeginBatch()
    {
        var batch = new BlobBatch(this, _batch.Value);
        _batch.Value = batch;
        return batch;
    }

    /// <summary>Makes the batch's outer batch current again, where the batch is still the current one.</summary>
    internal void EndBatch(BlobBatch batch)
    {
        if (ReferenceEquals(_batch.Value, batch))
        {
            _batch.Value = batch.Outer;
        }
    }

    /// <summary>
    /// The writers' half of the gc protocol (docs/datastore.md, "Writers and gc"): true when the blob exists, after
    /// refreshing its modification time under this process's lease, so that <c>gc</c> cannot collect it before the
    /// record being written names it. False when it does not exist (or was collected meanwhile): the caller writes
    /// it again, or, when it cannot (a resume clone), must not reference it.
    /// </summary>
    public bool Reuse(string sha)
    {
        if (_batch.Value?.Holds(sha) == true)
        {
            return true; // stored in this batch, published with it
        }
        _protect();
        var path = PathOf(sha);
        if (!_fs.File.Exists(path))
        {
            return false;
        }
        try
        {
            // Refreshed after the lease began; a gc that moved it aside meanwhile puts it back when it sees the time.
            _fs.File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only datastore still has the blob; nothing is written there, so nothing needs protecting.
            return _fs.File.Exists(path);
        }
        return true;
    }

    /// <summary>Stores <paramref name="data"/> unless a blob with its hash exists; returns the hash.</summary>
    /// <remarks>The hash comes first, so an existing blob costs one pass of SHA-256 and is never compressed again.</remarks>
    public string Put(ReadOnlyMemory<byte> data)
    {
        if (data.Length >= SpeculativeWriteSize && !ShouldCompress(data.Span))
        {
            return PutLargeRaw(data);
        }
        var sha = Hash(data.Span);
        if (!Reuse(sha))
        {
            WriteNew(sha, data.Length, output =>
            {
                var compress = ShouldCompress(data.Span);
                WriteHeader(output, compress, data.Length);
                if (compress)
                {
                    CompressChunks(data, output);
                }
                else
                {
                    WriteRaw(data.Span, output);
                }
            });
        }
        return sha;
    }

    /// <summary>From this size on, a value stored raw is written while it is hashed, not after.</summary>
    private const int SpeculativeWriteSize = 16 << 20;

    /// <summary>
    /// A large value that does not compress (random, already compressed): the disk, not the CPU, sets the pace, so
    /// it is written to its temp file while another core hashes it, and handed to the disk chunk by chunk. When the
    /// hash names a blob that exists, the write stops at the next chunk and the temp file goes: an existing blob is
    /// still never written whole again, and a new one is durable about when its last chunk reaches the disk.
    /// </summary>
    private string PutLargeRaw(ReadOnlyMemory<byte> data)
    {
        _protect();
        var hashing = Task.Run(() => Hash(data.Span));
        var temp = AtomicFile.TempPath(_fs, _tmp);
        bool? exists = null;
        try
        {
            using (var output = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                WriteHeader(output, compressed: false, data.Length);
                for (var offset = 0; offset < data.Length; offset += ChunkSize)
                {
                    if (exists is null && hashing.IsCompleted && (exists = Reuse(hashing.Result)) == true)
                    {
                        break;
                    }
                    var chunk = data.Span.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
                    var at = output.Position;
                    output.Write(chunk);
                    output.Flush();
                    FileSync.StartWriteback(output, at, chunk.Length);
                }
                exists ??= Reuse(hashing.Result);
                if (exists == false)
                {
                    FileSync.Data(output);
                }
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        var sha = hashing.Result;
        if (exists == true)
        {
            TryDelete(temp);
            return sha;
        }
        if (_batch.Value is { } batch)
        {
            batch.Add(sha, temp, PathOf(sha), durable: true);
            return sha;
        }
        PublishAlone(sha, temp, durable: true);
        return sha;
    }

    /// <summary>
    /// Writes a new blob: to a temp file, made durable (now, or with the batch), then published under its key. A
    /// large blob's bytes are handed to the disk chunk by chunk as they are written, so making it durable at the end
    /// waits only for the last chunk.
    /// </summary>
    internal void WriteNew(string sha, long length, Action<FileSystemStream> write)
    {
        _protect();
        var temp = AtomicFile.TempPath(_fs, _tmp);
        var batch = _batch.Value;
        var large = length > ChunkSize;
        try
        {
            using (var output = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                write(output);
                if (batch is null || large)
                {
                    FileSync.Data(output);
                }
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        if (batch is not null)
        {
            batch.Add(sha, temp, PathOf(sha), durable: large);
            return;
        }
        PublishAlone(sha, temp, durable: true);
    }

    /// <summary>Moves a durable temp file into place (an existing blob wins: equal content).</summary>
    internal void Publish(string sha, string temp)
    {
        AtomicFile.Publish(_fs, temp, PathOf(sha), overwrite: false);
    }

    /// <summary>Publishes one blob outside a batch: its bytes made durable (unless they are), then its name.</summary>
    internal void PublishAlone(string sha, string temp, bool durable)
    {
        if (!durable)
        {
            FileSync.Path(_fs, temp);
        }
        Publish(sha, temp);
        FileSync.Path(_fs, _fs.Path.GetDirectoryName(PathOf(sha))!);
    }

    /// <summary>Raw bytes, handed to the disk every chunk so a large value is durable soon after its last write.</summary>
    private static void WriteRaw(ReadOnlySpan<byte> data, FileSystemStream output)
    {
        for (var offset = 0; offset < data.Length; offset += ChunkSize)
        {
            var chunk = data.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
            var at = output.Position;
            output.Write(chunk);
            if (data.Length > ChunkSize)
            {
                output.Flush();
                FileSync.StartWriteback(output, at, chunk.Length);
            }
        }
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
            WriteNew(sha, length, output =>
            {
                var first = input.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                var compress = ShouldCompress(buffer.AsSpan(0, first));
                WriteHeader(output, compress, length);
                long copied = 0;
                var read = first;
                while (read > 0)
                {
                    var at = output.Position;
                    if (compress)
                    {
                        CompressChunks(buffer.AsMemory(0, read), output);
                    }
                    else
                    {
                        output.Write(buffer, 0, read);
                    }
                    if (length > ChunkSize)
                    {
                        output.Flush();
                        FileSync.StartWriteback(output, at, output.Position - at);
                    }
                    copied += read;
                    read = input.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
                }
                if (copied != length)
                {
                    throw new IOException("the content changed while it was being stored");
                }
            });
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
            file = OpenFile(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // gc moves a blob aside for an instant before it decides; one it puts back is there again at once.
            Thread.Sleep(100);
            try
            {
                file = OpenFile(path);
            }
            catch (Exception again) when (again is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new BlobCorruptException(sha, BlobCorruptException.MissingReason);
            }
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

    private Stream OpenFile(string path) => _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

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
                var at = output.Position;
                for (var i = 0; i < batch; i++)
                {
                    output.Write(buffers[i], 0, lengths[i]);
                }
                if (chunks > 1 && output is FileSystemStream file)
                {
                    // Hand what was just written to the disk now; a large blob is then durable soon after its end.
                    file.Flush();
                    FileSync.StartWriteback(file, at, file.Position - at);
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
