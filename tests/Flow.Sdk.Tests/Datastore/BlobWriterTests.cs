using System.Buffers.Binary;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// <see cref="BlobWriter"/> (<see cref="BlobStore.Create"/>): a value written as a stream becomes the same blob
/// <see cref="BlobStore.Put"/> would store; beyond one chunk it goes through a temp file that never outlives the writer.
/// Also how a damaged multi-frame blob is reported by each way of reading it.
/// </summary>
public sealed class BlobWriterTests : IDisposable
{
    private const int HeaderSize = 16;
    private const int CodecByte = 4;
    private const int MiB = 1 << 20;
    private const int Chunk = BlobStore.ChunkSize;

    private readonly TempDirectory _temp = new("flow-sdk-tests-");
    private readonly string _root;
    private readonly BlobStore _blobs;

    public BlobWriterTests()
    {
        _root = _temp.Combine(".flow");
        _blobs = new BlobStore(new FileSystem(), _root);
    }

    public void Dispose() => _temp.Dispose();

    private static byte[] Random(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Text of random words: compresses a few times over, so zstd frames are of some size.</summary>
    private static byte[] Compressible(int length, int seed = 42)
    {
        string[] words = ["alpha", "beta", "gamma", "delta", "flow", "step", "artifact", "blob", "chunk", "frame", "the", "of", "and", "1", "2", "3", "\n"];
        var rng = new Random(seed);
        var builder = new StringBuilder(length + 16);
        while (builder.Length < length)
        {
            builder.Append(words[rng.Next(words.Length)]).Append(' ');
        }
        return Encoding.ASCII.GetBytes(builder.ToString(0, length));
    }

    private static byte[] Data(string kind, int length) => kind == "compressible" ? Compressible(length) : Random(length);

    private string[] BlobFiles() =>
        Directory.Exists(Path.Combine(_root, "blobs")) ? Directory.GetFiles(Path.Combine(_root, "blobs"), "*", SearchOption.AllDirectories) : [];

    private string[] TempFiles() =>
        Directory.Exists(Path.Combine(_root, "tmp")) ? Directory.GetFiles(Path.Combine(_root, "tmp")) : [];

    /// <summary>Writes <paramref name="data"/> in pieces of <paramref name="piece"/> bytes (0: in one call).</summary>
    private static void WriteInPieces(Stream writer, ReadOnlySpan<byte> data, int piece)
    {
        if (piece == 0)
        {
            writer.Write(data);
            return;
        }
        for (var offset = 0; offset < data.Length; offset += piece)
        {
            writer.Write(data.Slice(offset, Math.Min(piece, data.Length - offset)));
        }
    }

    private (string Sha, long Length) WriteAndCommit(byte[] data, int piece = 0, BlobStore? blobs = null)
    {
        using var writer = (blobs ?? _blobs).Create();
        WriteInPieces(writer, data, piece);
        return writer.Commit();
    }

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer, 100_003);
            return buffer.ToArray();
        }
    }

    private static void ShouldBeSameBytes(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, string? because = null)
    {
        actual.Length.ShouldBe(expected.Length, because);
        actual.SequenceEqual(expected).ShouldBeTrue(because);
    }

    private byte[] BlobFile(string sha) => File.ReadAllBytes(_blobs.PathOf(sha));

    // ---- up to one chunk: the same as Put ----

    public static TheoryData<string, int, int> SmallCases => new()
    {
        { "random", 0, 0 },
        { "random", 1, 0 },
        { "random", 63, 0 },
        { "compressible", 64, 0 },
        { "random", 100_000, 7 },
        { "compressible", 100_000, 7_777 },
        { "random", Chunk - 1, 0 },
        { "compressible", Chunk - 1, 65_536 },
    };

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Commit_ContentUnderOneChunk_GivesTheSameKeyAndBlobAsPut(string kind, int length, int piece)
    {
        var data = Data(kind, length);
        var viaPut = new BlobStore(new FileSystem(), _temp.Combine("put", ".flow"));
        var expected = viaPut.Put(data);

        var (sha, size) = WriteAndCommit(data, piece);

        sha.ShouldBe(expected);
        sha.ShouldBe(BlobStore.Hash(data));
        size.ShouldBe(length);
        ShouldBeSameBytes(BlobFile(sha), File.ReadAllBytes(viaPut.PathOf(expected)), "the writer stores the blob Put stores");
        ShouldBeSameBytes(_blobs.Get(sha), data);
        _blobs.Put(data).ShouldBe(sha);
        BlobFiles().ShouldHaveSingleItem();
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public void Write_UpToOneChunk_KeepsItInMemory_AndBeyondSpillsToATempFile()
    {
        var data = Random((2 * Chunk) + 10);
        using var writer = _blobs.Create();

        writer.Write(data, 0, Chunk - 1);
        TempFiles().ShouldBeEmpty("less than one chunk stays in memory");
        writer.Length.ShouldBe(Chunk - 1);

        writer.Write(data, Chunk - 1, 2);
        TempFiles().ShouldHaveSingleItem("beyond one chunk the content goes to a temp file");

        writer.Write(data, Chunk + 1, data.Length - Chunk - 1);
        TempFiles().ShouldHaveSingleItem();
        writer.Length.ShouldBe(data.Length);
        writer.Position.ShouldBe(data.Length);
        BlobFiles().ShouldBeEmpty("nothing is published before Commit");

        var (sha, size) = writer.Commit();

        size.ShouldBe(data.Length);
        sha.ShouldBe(BlobStore.Hash(data));
        TempFiles().ShouldBeEmpty();
        BlobFiles().ShouldHaveSingleItem();
    }

    [Fact]
    public void Writer_IsAWriteOnlyForwardStream()
    {
        using var writer = _blobs.Create();

        writer.CanWrite.ShouldBeTrue();
        writer.CanRead.ShouldBeFalse();
        writer.CanSeek.ShouldBeFalse();
        Should.Throw<NotSupportedException>(() => writer.Seek(0, SeekOrigin.Begin));
        Should.Throw<NotSupportedException>(() => writer.Read(new byte[1], 0, 1));
        Should.Throw<NotSupportedException>(() => { writer.Position = 0; });
    }

    [Fact]
    public void WriteByte_ByteByByte_GivesTheSameBlobAsOneWrite()
    {
        var data = Compressible(5000);
        using var writer = _blobs.Create();
        foreach (var b in data)
        {
            writer.WriteByte(b);
        }

        writer.Commit().Sha.ShouldBe(BlobStore.Hash(data));
    }

    // ---- beyond one chunk: a temp file ----

    public static TheoryData<string, int, int> LargeCases => new()
    {
        { "random", Chunk, 0 },
        { "compressible", Chunk, 0 },
        { "random", Chunk + 1, 0 },
        { "random", 2 * Chunk, 1 << 16 },
        { "compressible", (2 * Chunk) + 1, 1 << 16 },
        { "random", (9 * MiB) + 3, 0 },
        { "compressible", (9 * MiB) + 3, 0 },
        { "random", (9 * MiB) + 3, 1_000_003 },
        { "compressible", (9 * MiB) + 3, 1_000_003 },
    };

    [Theory]
    [MemberData(nameof(LargeCases))]
    public void Commit_ContentOfOneChunkOrMore_ReadsBackIdentically(string kind, int length, int piece)
    {
        var data = Data(kind, length);

        var (sha, size) = WriteAndCommit(data, piece);

        sha.ShouldBe(BlobStore.Hash(data));
        size.ShouldBe(length);
        ShouldBeSameBytes(_blobs.Get(sha), data, "Get");
        ShouldBeSameBytes(ReadAll(_blobs.OpenRead(sha)), data, "OpenRead");
        var file = BlobFile(sha);
        file.AsSpan(0, 4).SequenceEqual("FLB1"u8).ShouldBeTrue();
        BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8)).ShouldBe(length, "the header's length is patched on commit");
        _blobs.LengthOf(sha).ShouldBe(length);
        TempFiles().ShouldBeEmpty();
        BlobFiles().ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData("random", 0)]
    [InlineData("compressible", 1)]
    public void Commit_ContentOverOneChunk_IsStoredRawWhenRandomAndZstdWhenCompressible(string kind, byte codec)
    {
        var data = Data(kind, (9 * MiB) + 3);

        var (sha, _) = WriteAndCommit(data);

        var file = BlobFile(sha);
        file[CodecByte].ShouldBe(codec);
        if (codec == 0)
        {
            file.Length.ShouldBe(HeaderSize + data.Length);
            file.AsSpan(HeaderSize).SequenceEqual(data).ShouldBeTrue("a raw blob holds the bytes as they are");
        }
        else
        {
            file.Length.ShouldBeLessThan(data.Length / 2);
        }
    }

    [Theory]
    [InlineData("random", 0)]
    [InlineData("compressible", 1)]
    public void Commit_ContentUnderOneChunk_IsStoredRawWhenRandomAndZstdWhenCompressible(string kind, byte codec)
    {
        var (sha, _) = WriteAndCommit(Data(kind, 200_000));

        BlobFile(sha)[CodecByte].ShouldBe(codec);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("compressible")]
    public void Commit_LargeContent_AgreesWithPutOnTheKeyAndSharesTheBlob(string kind)
    {
        var data = Data(kind, (9 * MiB) + 3);

        var (sha, _) = WriteAndCommit(data, 123_457);
        var put = _blobs.Put(data);

        put.ShouldBe(sha);
        BlobFiles().ShouldHaveSingleItem();
    }

    // ---- existing content, abandoned writers ----

    [Theory]
    [InlineData("random", 100_000)]
    [InlineData("compressible", 100_000)]
    [InlineData("random", (9 * MiB) + 3)]
    [InlineData("compressible", (9 * MiB) + 3)]
    public void Commit_ContentThatExists_LeavesOneUnchangedBlobAndNoTempFile(string kind, int length)
    {
        var data = Data(kind, length);
        var sha = _blobs.Put(data);
        var path = _blobs.PathOf(sha);
        File.AppendAllText(path, "marker"); // a rewrite would remove it
        var before = File.ReadAllBytes(path);
        var written = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, written);

        var (again, size) = WriteAndCommit(data, 1_000_003, new BlobStore(new FileSystem(), _root)); // another writer

        again.ShouldBe(sha);
        size.ShouldBe(length);
        BlobFiles().ShouldHaveSingleItem();
        TempFiles().ShouldBeEmpty();
        ShouldBeSameBytes(File.ReadAllBytes(path), before, "an existing blob is never rewritten");
        File.GetLastWriteTimeUtc(path).ShouldBeGreaterThan(written, "a reused blob's time is refreshed, so gc keeps it");
    }

    [Fact]
    public void Commit_SameLargeContentTwice_LeavesOneBlobAndNoTempFile()
    {
        var data = Compressible((3 * Chunk) + 17);

        var first = WriteAndCommit(data);
        var second = WriteAndCommit(data, 65_536);

        second.ShouldBe(first);
        BlobFiles().ShouldHaveSingleItem();
        TempFiles().ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_000)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData((9 * MiB) + 3)]
    public void Dispose_WithoutCommit_LeavesNoTempFileAndNoBlob(int length)
    {
        var data = Random(length);
        var writer = _blobs.Create();
        writer.Write(data);
        if (length > Chunk)
        {
            TempFiles().ShouldHaveSingleItem("the content is in a temp file before Dispose");
        }

        writer.Dispose();

        TempFiles().ShouldBeEmpty();
        BlobFiles().ShouldBeEmpty();
        _blobs.Exists(BlobStore.Hash(data)).ShouldBeFalse();
    }

    [Fact]
    public void Write_AfterDisposeOrCommit_ThrowsObjectDisposed()
    {
        var disposed = _blobs.Create();
        disposed.Dispose();
        var committed = _blobs.Create();
        committed.Write([1, 2, 3]);
        committed.Commit();

        Should.Throw<ObjectDisposedException>(() => disposed.Write([1]));
        Should.Throw<ObjectDisposedException>(() => committed.Write([1]));
        Should.Throw<ObjectDisposedException>(() => committed.Commit());
        committed.Dispose(); // a second dispose is harmless
    }

    [Fact]
    public void PutStream_NonSeekableStreamOverOneChunk_GoesThroughAWriterAndLeavesNoTempFile()
    {
        var data = Compressible((2 * Chunk) + 5);
        using var source = new ForwardOnlyStream(data);

        var (sha, size) = _blobs.PutStream(source);

        sha.ShouldBe(BlobStore.Hash(data));
        size.ShouldBe(data.Length);
        ShouldBeSameBytes(_blobs.Get(sha), data);
        TempFiles().ShouldBeEmpty();
    }

    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 300_007), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // ---- LengthOf ----

    [Theory]
    [InlineData("random", 0)]
    [InlineData("random", 1)]
    [InlineData("compressible", 100_000)]
    [InlineData("random", 100_000)]
    [InlineData("compressible", (2 * Chunk) + 1)]
    [InlineData("random", (2 * Chunk) + 1)]
    public void LengthOf_ReturnsTheUncompressedLength(string kind, int length)
    {
        var viaPut = _blobs.Put(Data(kind, length));

        _blobs.LengthOf(viaPut).ShouldBe(length);
    }

    [Fact]
    public void LengthOf_MissingBlob_IsReportedAsMissing()
    {
        Should.Throw<BlobCorruptException>(() => _blobs.LengthOf(BlobStore.Hash("never stored"u8))).Message.ShouldContain("missing");
    }

    // ---- damaged multi-frame blobs ----

    /// <summary>Stores more than two chunks through a writer and returns the key, the content and the blob file's bytes.</summary>
    private (string Sha, byte[] Data, byte[] File) StoreMultiChunk(string kind)
    {
        var data = Data(kind, (2 * Chunk) + (Chunk / 2) + 11);
        var (sha, _) = WriteAndCommit(data);
        var file = BlobFile(sha);
        file[CodecByte].ShouldBe(kind == "compressible" ? (byte)1 : (byte)0, "the blob under test has the intended codec");
        return (sha, data, file);
    }

    /// <summary>Each way of reading the whole blob throws <see cref="BlobCorruptException"/> naming it.</summary>
    private void EveryReadReportsCorrupt(string sha, string what)
    {
        Should.Throw<BlobCorruptException>(() => _blobs.Get(sha), "Get of " + what).Sha.ShouldBe(sha);
        Should.Throw<BlobCorruptException>(() => ReadAll(_blobs.OpenRead(sha)), "OpenRead of " + what).Sha.ShouldBe(sha);
        Should.Throw<BlobCorruptException>(() => _blobs.ReadCore(sha, n => new byte[n]), "ReadCore of " + what).Sha.ShouldBe(sha);
    }

    /// <summary>The offsets of the zstd frames in a blob's payload (a frame starts with 28 B5 2F FD), from the header on.</summary>
    private static List<int> FrameStarts(byte[] file)
    {
        var starts = new List<int>();
        for (var i = HeaderSize; i + 4 <= file.Length; i++)
        {
            if (file[i] == 0x28 && file[i + 1] == 0xB5 && file[i + 2] == 0x2F && file[i + 3] == 0xFD)
            {
                starts.Add(i);
            }
        }
        return starts;
    }

    [Fact]
    public void MultiFrameBlob_IsThreeZstdFrames()
    {
        var (_, _, file) = StoreMultiChunk("compressible");

        FrameStarts(file).Count.ShouldBe(3, "one zstd frame per chunk");
    }

    public static TheoryData<string, double> FlipCases => new()
    {
        { "compressible", 0.5 },
        { "compressible", 0.2 },
        { "compressible", 0.9 },
        { "compressible", 1.0 },
        { "random", 0.5 },
        { "random", 1.0 },
    };

    [Theory]
    [MemberData(nameof(FlipCases))]
    public void Read_MultiFrameBlobWithAFlippedPayloadByte_IsReportedAsCorrupt(string kind, double where)
    {
        var (sha, _, file) = StoreMultiChunk(kind);
        var position = Math.Min(file.Length - 1, HeaderSize + (int)((file.Length - HeaderSize) * where));
        file[position] ^= 0x10;
        File.WriteAllBytes(_blobs.PathOf(sha), file);

        EveryReadReportsCorrupt(sha, $"a {kind} blob with byte {position} of {file.Length} flipped");
    }

    [Theory]
    [MemberData(nameof(FlipCases))]
    public void Read_MultiFrameBlobCutShort_IsReportedAsCorrupt(string kind, double where)
    {
        var (sha, _, file) = StoreMultiChunk(kind);
        var length = Math.Min(file.Length - 1, HeaderSize + (int)((file.Length - HeaderSize) * where));
        File.WriteAllBytes(_blobs.PathOf(sha), file[..length]);

        EveryReadReportsCorrupt(sha, $"a {kind} blob cut to {length} of {file.Length} bytes");
    }

    [Fact]
    public void Read_MultiFrameBlobCutAtAFrameBoundary_IsReportedAsCorrupt()
    {
        var (sha, _, file) = StoreMultiChunk("compressible");
        var frames = FrameStarts(file);

        foreach (var cut in frames.Skip(1))
        {
            File.WriteAllBytes(_blobs.PathOf(sha), file[..cut]);

            EveryReadReportsCorrupt(sha, $"a blob cut before its frame at {cut}");
        }
    }

    [Fact]
    public void Read_MultiFrameBlobWithAFrameMissingInTheMiddle_IsReportedAsCorrupt()
    {
        var (sha, _, file) = StoreMultiChunk("compressible");
        var frames = FrameStarts(file);
        frames.Count.ShouldBe(3);

        File.WriteAllBytes(_blobs.PathOf(sha), [.. file[..frames[1]], .. file[frames[2]..]]);

        EveryReadReportsCorrupt(sha, "a blob without its second frame");
    }

    [Fact]
    public void Read_MultiFrameBlobWithTwoFramesSwapped_IsReportedAsCorrupt()
    {
        var data = Compressible((3 * Chunk) + 11);
        var (sha, _) = WriteAndCommit(data);
        var file = BlobFile(sha);
        var frames = FrameStarts(file);
        frames.Count.ShouldBe(4);

        // The 2nd and 3rd frames (both whole chunks) swapped: every frame is valid, the length too, the order is not.
        File.WriteAllBytes(_blobs.PathOf(sha), [.. file[..frames[1]], .. file[frames[2]..frames[3]], .. file[frames[1]..frames[2]], .. file[frames[3]..]]);

        EveryReadReportsCorrupt(sha, "a blob with two frames swapped");
    }

    [Theory]
    [InlineData("random")]
    [InlineData("compressible")]
    public void Read_MultiFrameBlobWithBytesAppended_IsReportedAsCorrupt(string kind)
    {
        var (sha, _, file) = StoreMultiChunk(kind);
        File.WriteAllBytes(_blobs.PathOf(sha), [.. file, .. file[HeaderSize..(HeaderSize + 100)]]);

        EveryReadReportsCorrupt(sha, "a blob with bytes appended");
    }

    [Theory]
    [InlineData("random")]
    [InlineData("compressible")]
    public void ReadCore_IntactMultiFrameBlob_FillsTheGivenMemory(string kind)
    {
        var (sha, data, _) = StoreMultiChunk(kind);
        var target = new byte[data.Length + 10];

        _blobs.ReadCore(sha, n => target.AsMemory(5, (int)n));

        ShouldBeSameBytes(target.AsSpan(5, data.Length), data);
        target.AsSpan(0, 5).ToArray().ShouldAllBe(b => b == 0);
        target.AsSpan(5 + data.Length).ToArray().ShouldAllBe(b => b == 0);
    }

    [Fact]
    public void ReadCore_MemoryOfTheWrongLength_IsReportedAsCorrupt()
    {
        var sha = _blobs.Put(Random(1000));

        Should.Throw<BlobCorruptException>(() => _blobs.ReadCore(sha, n => new byte[n - 1]));
        Should.Throw<BlobCorruptException>(() => _blobs.ReadCore(sha, n => new byte[n + 1]));
    }
}
