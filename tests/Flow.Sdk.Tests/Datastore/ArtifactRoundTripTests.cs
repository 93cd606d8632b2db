using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

[assembly: Flow.Sdk.ArtifactSerializer(typeof(Flow.Sdk.Tests.Datastore.ArtifactRoundTripTests.LabelSerializer))]

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// <see cref="ArtifactCodec.Store"/> then <see cref="ArtifactCodec.Load"/> for every kind of value: what is loaded
/// equals what was stored, and equal values get equal keys.
/// </summary>
public sealed class ArtifactRoundTripTests : IDisposable
{
    private const int MiB = 1 << 20;
    private const int StringChunk = 1 << 20;

    private readonly MockFileSystem _fs = new();
    private readonly BlobStore _blobs;
    private TempDirectory? _temp;
    private BlobStore? _disk;

    public ArtifactRoundTripTests()
    {
        _blobs = new BlobStore(_fs, _fs.Path.Combine(_fs.Path.GetTempPath(), "store", ".flow"));
    }

    public void Dispose() => _temp?.Dispose();

    /// <summary>A datastore in a real folder, for values of several MiB.</summary>
    private BlobStore Disk()
    {
        _temp ??= new TempDirectory("flow-sdk-tests-");
        return _disk ??= new BlobStore(new FileSystem(), _temp.Combine(".flow"));
    }

    private static (ArtifactRef Reference, T? Loaded) RoundTrip<T>(BlobStore blobs, T? value)
    {
        var reference = ArtifactCodec.Store(blobs, value, typeof(T));
        return (reference, (T?)ArtifactCodec.Load(blobs, reference, typeof(T)));
    }

    private static byte[] Random(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Compressible(int length) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the same sentence, over and over again. ", (length / 40) + 1)))[..length];

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
    }

    /// <summary>Compares large arrays without Shouldly's element-by-element formatting.</summary>
    private static void ShouldBeSameBytes(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, string? because = null)
    {
        actual.Length.ShouldBe(expected.Length, because);
        if (!actual.SequenceEqual(expected))
        {
            var first = 0;
            while (actual[first] == expected[first])
            {
                first++;
            }
            throw new ShouldAssertException($"{because} bytes differ first at offset {first}");
        }
    }

    /// <summary>The in-memory bytes of an array of primitives (little-endian on every platform .NET runs on here).</summary>
    private static byte[] BytesOf(Array array)
    {
        var bytes = new byte[Buffer.ByteLength(array)];
        Buffer.BlockCopy(array, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    // ---- null, bytes, strings ----

    [Fact]
    public void Store_Null_IsTheEmptyNullBlobAndLoadsAsNull()
    {
        var (reference, loaded) = RoundTrip<List<int>>(_blobs, null);

        loaded.ShouldBeNull();
        reference.Encoding.ShouldBe("null");
        reference.Size.ShouldBe(0);
        reference.Sha.ShouldBe(BlobStore.Hash([]));
        reference.Type.ShouldBe(typeof(List<int>).FullName);
        _blobs.Exists(reference.Sha).ShouldBeTrue();
    }

    public static TheoryData<int> SmallByteLengths => [0, 1, 63, 64, 1000, 100_000];

    [Theory]
    [MemberData(nameof(SmallByteLengths))]
    public void Store_ByteArray_LoadsTheSameBytesUnderTheirHash(int length)
    {
        var data = Random(length);

        var (reference, loaded) = RoundTrip(_blobs, data);

        loaded.ShouldBe(data);
        reference.Encoding.ShouldBe("bytes");
        reference.Size.ShouldBe(length);
        reference.Sha.ShouldBe(BlobStore.Hash(data));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("compressible")]
    public void Store_ByteArrayOfSeveralChunks_LoadsTheSameBytes(string kind)
    {
        var length = (2 * BlobStore.ChunkSize) + (MiB / 2) + 7; // > 8 MiB: three chunks, the last one partial
        var data = kind == "random" ? Random(length) : Compressible(length);
        var blobs = Disk();

        var (reference, loaded) = RoundTrip(blobs, data);

        ShouldBeSameBytes(loaded, data);
        reference.Size.ShouldBe(length);
        reference.Sha.ShouldBe(BlobStore.Hash(data));
        ShouldBeSameBytes(ReadAll(blobs.OpenRead(reference.Sha)), data);
    }

    [Fact]
    public void Store_EmptyString_LoadsAsEmptyNotNull()
    {
        var (reference, loaded) = RoundTrip(_blobs, string.Empty);

        loaded.ShouldBe(string.Empty);
        reference.Encoding.ShouldBe("string");
        reference.Size.ShouldBe(0);
    }

    [Theory]
    [InlineData("plain ascii")]
    [InlineData("héllo wörld, ünïcödé ✓ — ½")]
    [InlineData("surrogate pairs: 😀 𝄞 🇫🇷 👩‍👩‍👧")]
    [InlineData("中文字符 and 日本語 and 한국어")]
    [InlineData("\0 nul, \t tab, \r\n newline, \"quotes\"")]
    public void Store_String_LoadsTheSameTextUnderTheHashOfItsUtf8(string text)
    {
        var (reference, loaded) = RoundTrip(_blobs, text);

        loaded.ShouldBe(text);
        var utf8 = Encoding.UTF8.GetBytes(text);
        reference.Encoding.ShouldBe("string");
        reference.Size.ShouldBe(utf8.Length);
        reference.Sha.ShouldBe(BlobStore.Hash(utf8));
        _blobs.Get(reference.Sha).ShouldBe(utf8);
    }

    /// <summary>ASCII, two- and three-byte characters and surrogate pairs, with a pair split at every 1M-char boundary.</summary>
    private static string LongText(int length)
    {
        var rng = new Random(11);
        var builder = new StringBuilder(length);
        string[] pieces = ["a", "Z", " ", "é", "ß", "€", "中", "😀", "𝄞"];
        while (builder.Length < length)
        {
            if (builder.Length % StringChunk == StringChunk - 1)
            {
                builder.Append("🎉"); // a high surrogate ends one encoded piece and its low surrogate starts the next
                continue;
            }
            builder.Append(pieces[rng.Next(pieces.Length)]);
        }
        if (builder.Length > length)
        {
            builder.Length = length;
            if (char.IsHighSurrogate(builder[length - 1]))
            {
                builder[length - 1] = 'x';
            }
        }
        return builder.ToString();
    }

    [Theory]
    [InlineData(StringChunk)] // the longest string encoded in one piece
    [InlineData(StringChunk + 1)] // the shortest that streams
    [InlineData((2 * StringChunk) + 12_345)] // three pieces, more than one blob chunk of UTF-8
    public void Store_LongString_StreamsUnderTheSameHashAsItsUtf8(int length)
    {
        var text = LongText(length);
        text.Length.ShouldBe(length);
        var utf8 = Encoding.UTF8.GetBytes(text);
        var blobs = Disk();

        var (reference, loaded) = RoundTrip(blobs, text);

        (loaded == text).ShouldBeTrue("the loaded text differs from the stored one");
        reference.Encoding.ShouldBe("string");
        reference.Size.ShouldBe(utf8.Length);
        reference.Sha.ShouldBe(BlobStore.Hash(utf8), "a streamed string has the key the one-piece path gives its text");
        ShouldBeSameBytes(blobs.Get(reference.Sha), utf8);
    }

    [Fact]
    public void Store_LongStringAndItsUtf8Bytes_ShareOneBlob()
    {
        var text = LongText((3 * StringChunk) + 5);
        var blobs = Disk();

        var asText = ArtifactCodec.Store(blobs, text, typeof(string));
        var asBytes = ArtifactCodec.Store(blobs, Encoding.UTF8.GetBytes(text), typeof(byte[]));

        asText.Sha.ShouldBe(asBytes.Sha);
        asText.Size.ShouldBe(asBytes.Size);
    }

    // ---- arrays of primitives ----

    public static TheoryData<string, Array> PrimitiveArrays => new()
    {
        { "bool", new[] { true, false, false, true, true } },
        { "int8", new sbyte[] { sbyte.MinValue, -1, 0, 1, sbyte.MaxValue } },
        { "int16", new short[] { short.MinValue, -1, 0, 1, 256, short.MaxValue } },
        { "uint16", new ushort[] { 0, 1, 255, 256, ushort.MaxValue } },
        { "int32", new[] { int.MinValue, -1, 0, 1, 256, int.MaxValue } },
        { "uint32", new uint[] { 0, 1, 0x8000_0000, uint.MaxValue } },
        { "int64", new[] { long.MinValue, -1L, 0L, 1L, 9_000_000_000L, long.MaxValue } },
        { "uint64", new ulong[] { 0, 1, 0x8000_0000_0000_0000, ulong.MaxValue } },
        { "float32", new[] { 0f, -0f, 1.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, float.MinValue, float.MaxValue, BitConverter.Int32BitsToSingle(0x7FC0_1234) } },
        { "float64", new[] { 0d, -0d, 0.1, -2.5e300, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, double.MinValue, double.MaxValue, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234) } },
        { "char", new[] { 'a', '\0', 'é', '中', '\uD83D', '\uDE00', '\uDC00', '\uFFFF' } },
    };

    private static void ShouldRoundTripBitExactly(BlobStore blobs, string element, Array values, Type declared)
    {
        var reference = ArtifactCodec.Store(blobs, values, declared);
        var loaded = ArtifactCodec.Load(blobs, reference, declared);

        var expected = BytesOf(values);
        reference.Encoding.ShouldBe("array:" + element);
        reference.Size.ShouldBe(expected.Length);
        reference.Sha.ShouldBe(BlobStore.Hash(expected), "the key is the hash of the elements' bytes");
        reference.Type.ShouldBe(declared.FullName);
        loaded.ShouldNotBeNull().GetType().ShouldBe(values.GetType());
        loaded.ShouldNotBeSameAs(values);
        ShouldBeSameBytes(BytesOf((Array)loaded), expected, $"{element}[{values.Length}]");
    }

    [Theory]
    [MemberData(nameof(PrimitiveArrays))]
    public void Store_PrimitiveArray_LoadsBitExactlyAsTheSameArrayType(string element, Array values)
    {
        ShouldRoundTripBitExactly(_blobs, element, values, values.GetType());
    }

    [Theory]
    [MemberData(nameof(PrimitiveArrays))]
    public void Store_EmptyPrimitiveArray_LoadsAsAnEmptyArrayOfTheSameType(string element, Array values)
    {
        var empty = Array.CreateInstance(values.GetType().GetElementType()!, 0);

        ShouldRoundTripBitExactly(_blobs, element, empty, empty.GetType());
    }

    [Theory]
    [MemberData(nameof(PrimitiveArrays))]
    public void Store_PrimitiveArrayDeclaredAsObject_KeepsTheArrayEncodingAndType(string element, Array values)
    {
        ShouldRoundTripBitExactly(_blobs, element, values, typeof(object));
    }

    [Fact]
    public void Store_DoubleArray_KeepsNaNInfinitiesAndNegativeZero()
    {
        double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0];

        var (_, loaded) = RoundTrip(_blobs, values);

        loaded.ShouldNotBeNull().Length.ShouldBe(5);
        double.IsNaN(loaded[0]).ShouldBeTrue();
        loaded[1].ShouldBe(double.PositiveInfinity);
        loaded[2].ShouldBe(double.NegativeInfinity);
        double.IsNegative(loaded[3]).ShouldBeTrue("-0.0 keeps its sign");
        double.IsNegative(loaded[4]).ShouldBeFalse();
    }

    [Fact]
    public void Store_IntArray_IsStoredAsLittleEndianElementBytes()
    {
        var reference = ArtifactCodec.Store(_blobs, new[] { 1, 256, -1 }, typeof(int[]));

        _blobs.Get(reference.Sha).ShouldBe(new byte[] { 1, 0, 0, 0, 0, 1, 0, 0, 255, 255, 255, 255 });
    }

    [Fact]
    public void Load_IntArrayAsList_FallsBackThroughJson()
    {
        var reference = ArtifactCodec.Store(_blobs, new[] { 4, 5, 6 }, typeof(int[]));

        ArtifactCodec.Load(_blobs, reference, typeof(List<int>)).ShouldBeOfType<List<int>>().ShouldBe([4, 5, 6]);
    }

    [Theory]
    [InlineData("float64")]
    [InlineData("int32")]
    [InlineData("char")]
    public void Store_PrimitiveArrayOfSeveralChunks_LoadsBitExactly(string element)
    {
        var rng = new Random(5);
        const int bytes = (2 * BlobStore.ChunkSize) + 4096 + 8; // three chunks, a whole number of elements of each size
        Array values = element switch
        {
            "float64" => Enumerable.Range(0, bytes / 8).Select(i => i % 3 == 0 ? rng.NextDouble() : i * 0.5).ToArray(),
            "int32" => Enumerable.Range(0, bytes / 4).Select(_ => rng.Next()).ToArray(),
            _ => Enumerable.Range(0, bytes / 2).Select(i => (char)('a' + (i % 26))).ToArray(),
        };

        ShouldRoundTripBitExactly(Disk(), element, values, values.GetType());
    }

    // ---- JSON values ----

    public enum Phase
    {
        Train,
        Validate,
        Test,
    }

    [Flags]
    public enum Features
    {
        None = 0,
        Fast = 1,
        Small = 2,
        Exact = 4,
    }

    public sealed record Metrics(string Name, double Loss, IReadOnlyList<double> History, Phase Phase);

    public sealed class Experiment
    {
        public string Name { get; set; } = "";

        public List<Metrics> Runs { get; set; } = [];

        public Dictionary<string, int> Counts { get; set; } = [];

        public HashSet<string> Tags { get; set; } = [];

        public Features Features { get; set; }

        public DateTime Started { get; set; }

        public decimal Budget { get; set; }

        public int? Optional { get; set; }

        public (double Low, double High) Range;
    }

    private static Experiment SampleExperiment() => new()
    {
        Name = "exp-1 ✓",
        Runs = [new Metrics("a", 0.25, [1.0, 0.5, 0.25], Phase.Train), new Metrics("b", double.NaN, [], Phase.Test)],
        Counts = new() { ["z"] = 26, ["a"] = 1, ["m"] = 13 },
        Tags = ["gpu", "baseline", "ünïcode"],
        Features = Features.Fast | Features.Exact,
        Started = new DateTime(2025, 3, 1, 12, 34, 56, DateTimeKind.Utc).AddTicks(1234),
        Budget = 1234.5678m,
        Optional = null,
        Range = (-1.5, double.PositiveInfinity),
    };

    [Fact]
    public void Store_Record_LoadsAnEqualRecordFromJson()
    {
        var (reference, loaded) = RoundTrip(_blobs, new Point(3, -4));

        loaded.ShouldBe(new Point(3, -4));
        reference.Encoding.ShouldBe("json");
        reference.Type.ShouldBe(typeof(Point).FullName);
    }

    [Fact]
    public void Store_ClassWithNestedValues_LoadsEveryMember()
    {
        var value = SampleExperiment();

        var (reference, loaded) = RoundTrip(_blobs, value);

        reference.Encoding.ShouldBe("json");
        loaded.ShouldNotBeNull();
        loaded.Name.ShouldBe(value.Name);
        loaded.Runs.Count.ShouldBe(2);
        loaded.Runs[0].Name.ShouldBe("a");
        loaded.Runs[0].History.ShouldBe([1.0, 0.5, 0.25]);
        loaded.Runs[0].Phase.ShouldBe(Phase.Train);
        double.IsNaN(loaded.Runs[1].Loss).ShouldBeTrue();
        loaded.Runs[1].Phase.ShouldBe(Phase.Test);
        loaded.Counts.OrderBy(p => p.Key).ShouldBe(value.Counts.OrderBy(p => p.Key));
        loaded.Tags.SetEquals(value.Tags).ShouldBeTrue();
        loaded.Features.ShouldBe(Features.Fast | Features.Exact);
        loaded.Started.ShouldBe(value.Started);
        loaded.Started.Kind.ShouldBe(DateTimeKind.Utc);
        loaded.Budget.ShouldBe(1234.5678m);
        loaded.Optional.ShouldBeNull();
        loaded.Range.ShouldBe((-1.5, double.PositiveInfinity), "public fields are values too");
    }

    [Fact]
    public void Store_EqualClassValues_GiveTheSameKey()
    {
        var first = ArtifactCodec.Store(_blobs, SampleExperiment(), typeof(Experiment));
        var second = ArtifactCodec.Store(_blobs, SampleExperiment(), typeof(Experiment));

        second.ShouldBe(first);
    }

    [Fact]
    public void Store_List_LoadsTheSameElementsInOrder()
    {
        var (_, loaded) = RoundTrip(_blobs, new List<string> { "b", "a", "", "😀", "c" });

        loaded.ShouldBe(["b", "a", "", "😀", "c"]);
    }

    [Fact]
    public void Store_DictionaryOfLists_LoadsTheSameEntries()
    {
        var value = new Dictionary<string, List<int>> { ["x"] = [3, 2, 1], ["é"] = [], ["a"] = [int.MinValue] };

        var (_, loaded) = RoundTrip(_blobs, value);

        loaded.ShouldNotBeNull().Count.ShouldBe(3);
        loaded["x"].ShouldBe([3, 2, 1]);
        loaded["é"].ShouldBeEmpty();
        loaded["a"].ShouldBe([int.MinValue]);
    }

    [Fact]
    public void Store_DictionaryWithIntKeys_LoadsTheSameEntries()
    {
        var value = new Dictionary<int, string> { [10] = "ten", [2] = "two", [-1] = "minus one" };

        var (_, loaded) = RoundTrip(_blobs, value);

        loaded.ShouldNotBeNull().OrderBy(p => p.Key).ShouldBe(value.OrderBy(p => p.Key));
    }

    [Fact]
    public void Store_HashSet_LoadsTheSameElements()
    {
        var value = new HashSet<long> { 5, -3, long.MaxValue, 0 };

        var (_, loaded) = RoundTrip(_blobs, value);

        loaded.ShouldNotBeNull().SetEquals(value).ShouldBeTrue();
    }

    [Fact]
    public void Store_ReadOnlyDictionaryDeclaredType_IsCanonicalAndLoads()
    {
        IReadOnlyDictionary<string, int> ab = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };
        IReadOnlyDictionary<string, int> ba = new Dictionary<string, int> { ["b"] = 2, ["a"] = 1 };

        var (reference, loaded) = RoundTrip(_blobs, ab);

        ArtifactCodec.Store(_blobs, ba, typeof(IReadOnlyDictionary<string, int>)).Sha.ShouldBe(reference.Sha);
        loaded.ShouldNotBeNull()["a"].ShouldBe(1);
        loaded["b"].ShouldBe(2);
    }

    [Theory]
    [InlineData(Phase.Train)]
    [InlineData(Phase.Test)]
    public void Store_Enum_LoadsTheSameMemberStoredByName(Phase phase)
    {
        var (reference, loaded) = RoundTrip(_blobs, phase);

        loaded.ShouldBe(phase);
        Encoding.UTF8.GetString(_blobs.Get(reference.Sha)).ShouldBe($"\"{phase}\"");
    }

    [Fact]
    public void Store_FlagsEnum_LoadsTheSameCombination()
    {
        RoundTrip(_blobs, Features.Fast | Features.Small).Loaded.ShouldBe(Features.Fast | Features.Small);
        RoundTrip(_blobs, Features.None).Loaded.ShouldBe(Features.None);
    }

    [Theory]
    [InlineData(DateTimeKind.Utc)]
    [InlineData(DateTimeKind.Unspecified)]
    public void Store_DateTime_LoadsTheSameInstantAndKind(DateTimeKind kind)
    {
        var when = new DateTime(2024, 2, 29, 23, 59, 59, 999, kind).AddTicks(9999);

        var (_, loaded) = RoundTrip(_blobs, when);

        loaded.ShouldBe(when);
        loaded.Kind.ShouldBe(kind);
    }

    [Fact]
    public void Store_DateOnlyTimeSpanAndGuid_LoadTheSameValues()
    {
        RoundTrip(_blobs, new DateOnly(1, 1, 1)).Loaded.ShouldBe(new DateOnly(1, 1, 1));
        RoundTrip(_blobs, new DateOnly(9999, 12, 31)).Loaded.ShouldBe(new DateOnly(9999, 12, 31));
        RoundTrip(_blobs, TimeSpan.FromTicks(-123_456_789)).Loaded.ShouldBe(TimeSpan.FromTicks(-123_456_789));
        var id = Guid.NewGuid();
        RoundTrip(_blobs, id).Loaded.ShouldBe(id);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.1")]
    [InlineData("-1234567890.0987654321")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("-79228162514264337593543950335")]
    [InlineData("0.0000000000000000000000000001")]
    public void Store_Decimal_LoadsTheSameValue(string text)
    {
        var value = decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

        RoundTrip(_blobs, value).Loaded.ShouldBe(value);
    }

    [Fact]
    public void Store_Scalars_LoadTheSameValues()
    {
        RoundTrip(_blobs, 42).Loaded.ShouldBe(42);
        RoundTrip(_blobs, long.MinValue).Loaded.ShouldBe(long.MinValue);
        RoundTrip(_blobs, true).Loaded.ShouldBeTrue();
        double.IsNaN(RoundTrip(_blobs, double.NaN).Loaded).ShouldBeTrue();
        RoundTrip(_blobs, double.NegativeInfinity).Loaded.ShouldBe(double.NegativeInfinity);
        RoundTrip<int?>(_blobs, 7).Loaded.ShouldBe(7);
    }

    // ---- streams ----

    /// <summary>A read-only stream that cannot seek and returns at most <paramref name="most"/> bytes a read.</summary>
    private sealed class NonSeekableStream(Stream inner, int most = 65_537) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => inner.Read(buffer[..Math.Min(buffer.Length, most)]);

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
            }
            base.Dispose(disposing);
        }
    }

    public static TheoryData<bool, string, int> StreamCases => new()
    {
        { true, "random", 0 },
        { true, "random", 100_000 },
        { true, "compressible", 100_000 },
        { false, "random", 0 },
        { false, "random", 100_000 },
        { false, "compressible", 100_000 },
        { true, "random", (2 * BlobStore.ChunkSize) + 12_345 },
        { true, "compressible", (2 * BlobStore.ChunkSize) + 12_345 },
        { false, "random", (2 * BlobStore.ChunkSize) + 12_345 },
        { false, "compressible", (2 * BlobStore.ChunkSize) + 12_345 },
    };

    [Theory]
    [MemberData(nameof(StreamCases))]
    public void Store_Stream_LoadsAsAStreamOfTheSameBytes(bool seekable, string kind, int length)
    {
        var data = kind == "random" ? Random(length) : Compressible(length);
        var blobs = length > MiB ? Disk() : _blobs;
        Stream source = seekable ? new MemoryStream(data, writable: false) : new NonSeekableStream(new MemoryStream(data, writable: false));

        ArtifactRef reference;
        using (source)
        {
            reference = ArtifactCodec.Store(blobs, source, typeof(Stream));
        }
        var loaded = ArtifactCodec.Load(blobs, reference, typeof(Stream));

        reference.Encoding.ShouldBe("bytes");
        reference.Size.ShouldBe(length);
        reference.Sha.ShouldBe(BlobStore.Hash(data));
        ShouldBeSameBytes(ReadAll(loaded.ShouldBeAssignableTo<Stream>()!), data);
        ShouldBeSameBytes(ArtifactCodec.Load(blobs, reference, typeof(byte[])).ShouldBeOfType<byte[]>(), data, "a stream artifact reads back as bytes too");
    }

    [Fact]
    public void Store_StreamNotAtItsStart_StoresTheRemainingBytes()
    {
        var data = Random(5000);
        using var source = new MemoryStream(data, writable: false) { Position = 1000 };

        var reference = ArtifactCodec.Store(_blobs, source, typeof(Stream));

        reference.Size.ShouldBe(4000);
        reference.Sha.ShouldBe(BlobStore.Hash(data.AsSpan(1000)));
        ReadAll((Stream)ArtifactCodec.Load(_blobs, reference, typeof(Stream))!).ShouldBe(data[1000..]);
    }

    [Fact]
    public void Store_StreamAndByteArrayOfTheSameBytes_ShareOneBlob()
    {
        var data = Compressible(70_000);
        using var seekable = new MemoryStream(data, writable: false);
        using var forward = new NonSeekableStream(new MemoryStream(data, writable: false));

        var fromBytes = ArtifactCodec.Store(_blobs, data, typeof(byte[]));
        var fromSeekable = ArtifactCodec.Store(_blobs, seekable, typeof(Stream));
        var fromForward = ArtifactCodec.Store(_blobs, forward, typeof(Stream));

        fromSeekable.Sha.ShouldBe(fromBytes.Sha);
        fromForward.Sha.ShouldBe(fromBytes.Sha);
    }

    // ---- included files ----

    [Theory]
    [InlineData(0)]
    [InlineData(10_000)]
    [InlineData((2 * BlobStore.ChunkSize) + 99)]
    public void Store_IncludedFileFromFile_LoadsAsAnIncludedFileWithTheSameBytes(int length)
    {
        var blobs = Disk();
        var data = Random(length, seed: length);
        var path = _temp!.Combine("input.bin");
        File.WriteAllBytes(path, data);

        var (reference, loaded) = RoundTrip(blobs, IncludedFile.FromFile(path));

        reference.Encoding.ShouldBe("bytes");
        reference.Size.ShouldBe(length);
        reference.Sha.ShouldBe(BlobStore.Hash(data));
        reference.Type.ShouldBe(typeof(IncludedFile).FullName);
        loaded.ShouldNotBeNull().Length.ShouldBe(length);
        ShouldBeSameBytes(loaded.ReadAllBytes(), data);
    }

    [Fact]
    public void Store_LoadedIncludedFile_GivesTheSameReferenceWithoutReadingIt()
    {
        var blobs = Disk();
        var path = _temp!.Combine("model.bin");
        var data = Random(300_000);
        File.WriteAllBytes(path, data);
        var (reference, loaded) = RoundTrip(blobs, IncludedFile.FromFile(path));
        // Garbage in place of the blob: reading it (or its source) again would throw or give another key.
        var blob = blobs.PathOf(reference.Sha);
        File.WriteAllBytes(blob, [1, 2, 3]);
        File.Delete(path);

        var again = ArtifactCodec.Store(blobs, loaded, typeof(IncludedFile));

        again.ShouldBe(reference);
        File.ReadAllBytes(blob).ShouldBe(new byte[] { 1, 2, 3 }, "the blob is not written again");
    }

    [Fact]
    public void Store_EmptyIncludedFile_IsTheEmptyBlob()
    {
        var (reference, loaded) = RoundTrip(_blobs, IncludedFile.Empty);

        reference.Sha.ShouldBe(BlobStore.Hash([]));
        reference.Size.ShouldBe(0);
        loaded.ShouldNotBeNull().ReadAllBytes().ShouldBeEmpty();
    }

    [Fact]
    public void Store_IncludedFileAndByteArrayOfTheSameBytes_ShareOneBlob()
    {
        var blobs = Disk();
        var data = Compressible(123_456);
        var path = _temp!.Combine("text.txt");
        File.WriteAllBytes(path, data);

        var fromFile = ArtifactCodec.Store(blobs, IncludedFile.FromFile(path), typeof(IncludedFile));
        var fromBytes = ArtifactCodec.Store(blobs, data, typeof(byte[]));

        fromFile.Sha.ShouldBe(fromBytes.Sha);
        ((IncludedFile)ArtifactCodec.Load(blobs, fromBytes, typeof(IncludedFile))!).ReadAllText().ShouldBe(Encoding.UTF8.GetString(data));
    }

    // ---- custom serializers ----

    /// <summary>A value written by a registered serializer as a sensor name and its readings.</summary>
    public sealed class Reading(string sensor, double[] values)
    {
        public string Sensor { get; } = sensor;

        public double[] Values { get; } = values;
    }

    public sealed class ReadingSerializer : IArtifactSerializer<Reading>
    {
        public string Name => "test-reading";

        public void Write(Reading value, Stream destination)
        {
            using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
            writer.Write(value.Sensor);
            writer.Write(value.Values.Length);
            foreach (var v in value.Values)
            {
                writer.Write(v);
            }
        }

        public Reading Read(Stream source)
        {
            using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
            var sensor = reader.ReadString();
            var values = new double[reader.ReadInt32()];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.ReadDouble();
            }
            return new Reading(sensor, values);
        }
    }

    public interface IShape
    {
        double Area { get; }
    }

    public sealed record Square(double Side) : IShape
    {
        public double Area => Side * Side;
    }

    /// <summary>Registered for the interface: used for every class implementing it.</summary>
    public sealed class ShapeSerializer : IArtifactSerializer<IShape>
    {
        public string Name => "test-shape";

        public void Write(IShape value, Stream destination) => destination.Write(BitConverter.GetBytes(((Square)value).Side));

        public IShape Read(Stream source)
        {
            var bytes = new byte[8];
            source.ReadExactly(bytes);
            return new Square(BitConverter.ToDouble(bytes));
        }
    }

    /// <summary>A value whose serializer reads only a prefix of what it wrote (the rest is padding).</summary>
    public sealed record Padded(int Seed);

    public sealed class PaddedSerializer : IArtifactSerializer<Padded>
    {
        public string Name => "test-padded";

        public void Write(Padded value, Stream destination)
        {
            destination.Write(BitConverter.GetBytes(value.Seed));
            destination.Write(Random(10_000, value.Seed));
        }

        public Padded Read(Stream source)
        {
            var bytes = new byte[4];
            source.ReadExactly(bytes);
            return new Padded(BitConverter.ToInt32(bytes));
        }
    }

    /// <summary>Registered by <c>[assembly: ArtifactSerializer]</c> in this file, never by a call.</summary>
    public sealed record Label(string Text);

    public sealed class LabelSerializer : IArtifactSerializer<Label>
    {
        public string Name => "test-label";

        public void Write(Label value, Stream destination) => destination.Write(Encoding.UTF8.GetBytes("label:" + value.Text));

        public Label Read(Stream source)
        {
            using var reader = new StreamReader(source, Encoding.UTF8, leaveOpen: true);
            var text = reader.ReadToEnd();
            text.ShouldStartWith("label:");
            return new Label(text["label:".Length..]);
        }
    }

    [Fact]
    public void Store_ValueWithARegisteredSerializer_IsWrittenByItAndLoadsBack()
    {
        ArtifactSerializers.Register(new ReadingSerializer());
        var value = new Reading("thermo-1 ✓", [20.5, double.NaN, -0.0, 1e-300]);

        var (reference, loaded) = RoundTrip(_blobs, value);

        reference.Encoding.ShouldStartWith(ArtifactCodec.CustomPrefix);
        reference.Encoding.ShouldBe("custom:test-reading");
        reference.Type.ShouldBe(typeof(Reading).FullName);
        using (var expected = new MemoryStream())
        {
            new ReadingSerializer().Write(value, expected);
            _blobs.Get(reference.Sha).ShouldBe(expected.ToArray(), "the blob holds exactly what the serializer wrote");
            reference.Size.ShouldBe(expected.Length);
        }
        loaded.ShouldNotBeNull().Sensor.ShouldBe(value.Sensor);
        BytesOf(loaded.Values).ShouldBe(BytesOf(value.Values));
    }

    [Fact]
    public void Store_ClassImplementingAnInterfaceWithASerializer_UsesTheInterfacesSerializer()
    {
        ArtifactSerializers.Register<IShape>(new ShapeSerializer());

        var asSquare = ArtifactCodec.Store(_blobs, new Square(3), typeof(Square));
        var asObject = ArtifactCodec.Store(_blobs, new Square(3), typeof(object));
        var asShape = ArtifactCodec.Store(_blobs, new Square(3), typeof(IShape));

        asSquare.Encoding.ShouldBe("custom:test-shape");
        asObject.Encoding.ShouldBe("custom:test-shape");
        asShape.Encoding.ShouldBe("custom:test-shape");
        asObject.Sha.ShouldBe(asSquare.Sha);
        asShape.Sha.ShouldBe(asSquare.Sha);
        ArtifactCodec.Load(_blobs, asSquare, typeof(Square)).ShouldBe(new Square(3));
        ArtifactCodec.Load(_blobs, asShape, typeof(IShape)).ShouldBeAssignableTo<IShape>()!.Area.ShouldBe(9);
    }

    [Fact]
    public void Store_SerializerRegisteredByAssemblyAttribute_IsUsedWithoutACall()
    {
        var (reference, loaded) = RoundTrip(_blobs, new Label("from the attribute"));

        reference.Encoding.ShouldBe("custom:test-label");
        Encoding.UTF8.GetString(_blobs.Get(reference.Sha)).ShouldBe("label:from the attribute");
        loaded.ShouldBe(new Label("from the attribute"));
    }

    [Fact]
    public void Load_CustomValueDamagedPastWhatTheSerializerReads_IsReportedAsCorrupt()
    {
        ArtifactSerializers.Register(new PaddedSerializer());
        var reference = ArtifactCodec.Store(_blobs, new Padded(1234), typeof(Padded));
        ArtifactCodec.Load(_blobs, reference, typeof(Padded)).ShouldBe(new Padded(1234));
        var path = _blobs.PathOf(reference.Sha);
        var file = _fs.File.ReadAllBytes(path);
        file[^1] ^= 0x01; // in the padding, which the serializer never reads
        _fs.File.WriteAllBytes(path, file);

        Should.Throw<BlobCorruptException>(() => ArtifactCodec.Load(_blobs, reference, typeof(Padded)));
    }

    [Fact]
    public void Load_CustomEncodingWithoutARegisteredSerializer_ThrowsMissingSerializer()
    {
        var sha = _blobs.Put("whatever"u8.ToArray());
        var reference = new ArtifactRef(sha, "custom:never-registered-anywhere", "Some.Model", 8);

        var error = Should.Throw<MissingSerializerException>(() => ArtifactCodec.Load(_blobs, reference, typeof(object)));

        error.Name.ShouldBe("never-registered-anywhere");
        error.Message.ShouldContain("never-registered-anywhere");
        error.Message.ShouldContain("Some.Model");
    }

    public sealed class BadlyNamedSerializer : IArtifactSerializer<Reading>
    {
        public string Name => "has a space";

        public void Write(Reading value, Stream destination) => throw new NotSupportedException();

        public Reading Read(Stream source) => throw new NotSupportedException();
    }

    [Fact]
    public void Register_SerializerNameWithSpaces_IsRejected()
    {
        Should.Throw<ArgumentException>(() => ArtifactSerializers.Register(new BadlyNamedSerializer()));
    }

    // ---- properties over random values ----

    private static readonly string[] s_elementNames = ["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64", "char"];

    /// <summary>An array of the named primitive type: random bits, or values from a small range (so some compress).</summary>
    private static Array RandomArray(Random rng, string element, int length)
    {
        var narrow = rng.Next(2) == 0;
        var array = element switch
        {
            "bool" => (Array)new bool[length],
            "int8" => new sbyte[length],
            "int16" => new short[length],
            "uint16" => new ushort[length],
            "int32" => new int[length],
            "uint32" => new uint[length],
            "int64" => new long[length],
            "uint64" => new ulong[length],
            "float32" => new float[length],
            "float64" => new double[length],
            _ => new char[length],
        };
        if (array is bool[] flags)
        {
            for (var i = 0; i < flags.Length; i++)
            {
                flags[i] = rng.Next(narrow ? 8 : 2) == 0;
            }
            return array;
        }
        var bytes = new byte[Buffer.ByteLength(array)];
        rng.NextBytes(bytes);
        if (narrow)
        {
            var size = bytes.Length / Math.Max(1, length);
            for (var i = 0; i < bytes.Length; i++)
            {
                if (i % size != 0)
                {
                    bytes[i] = 0; // only the lowest byte of each element varies
                }
            }
        }
        Buffer.BlockCopy(bytes, 0, array, 0, bytes.Length);
        return array;
    }

    /// <summary>Runs one generated case; a failure is recorded with its case instead of stopping the others.</summary>
    private static void Check(List<string> failures, string where, Action check)
    {
        try
        {
            check();
        }
        catch (Exception e)
        {
            var message = e.Message.ReplaceLineEndings(" ");
            var diff = message.IndexOf("    difference", StringComparison.Ordinal);
            message = diff > 0 ? message[..diff] : message;
            failures.Add(message.Contains(where, StringComparison.Ordinal) ? message : $"{where}: {message}");
        }
    }

    /// <summary>Fails with every recorded case (the first few in full).</summary>
    private static void ShouldAllPass(List<string> failures, int cases)
    {
        if (failures.Count > 0)
        {
            throw new ShouldAssertException($"{failures.Count} of {cases} generated cases failed:\n" + string.Join("\n", failures.Take(12).Select(f => f.Length > 400 ? f[..400] + "..." : f)));
        }
    }

    [Fact]
    public void Store_RandomPrimitiveArrays_LoadBitExactlyAndEqualArraysShareAKey()
    {
        var failures = new List<string>();
        const int cases = 300;
        for (var seed = 0; seed < cases; seed++)
        {
            var rng = new Random(seed);
            var element = s_elementNames[rng.Next(s_elementNames.Length)];
            var length = rng.Next(4) == 0 ? rng.Next(0, 100_001) : rng.Next(0, 2000);
            var values = RandomArray(rng, element, length);
            var where = $"seed {seed}: {element}[{length}]";

            Check(failures, where, () =>
            {
                var reference = ArtifactCodec.Store(_blobs, values, values.GetType());
                var loaded = (Array)ArtifactCodec.Load(_blobs, reference, values.GetType())!;
                var copy = ArtifactCodec.Store(_blobs, values.Clone(), values.GetType());
                var reloaded = ArtifactCodec.Store(_blobs, loaded, values.GetType());

                ShouldBeSameBytes(BytesOf(loaded), BytesOf(values), where);
                reference.Sha.ShouldBe(BlobStore.Hash(BytesOf(values)), where);
                copy.ShouldBe(reference, where);
                reloaded.ShouldBe(reference, where);
                reference.Encoding.ShouldBe("array:" + element, where);
                loaded.GetType().ShouldBe(values.GetType(), where);
            });
        }
        ShouldAllPass(failures, cases);
    }

    private static string RandomKey(Random rng)
    {
        string[] alphabet = ["a", "b", "z", "A", "0", "9", "_", " ", "é", "ß", "中", "😀", "\"", "\\", "\n"];
        var builder = new StringBuilder();
        var length = rng.Next(0, 8);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[rng.Next(alphabet.Length)]);
        }
        return builder.ToString();
    }

    /// <summary>The same entries in a random order; some inserted, removed and inserted again, so the layout differs too.</summary>
    private static List<T> Shuffled<T>(Random rng, IEnumerable<T> items)
    {
        var list = items.ToList();
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }

    private static Dictionary<TKey, TValue> Build<TKey, TValue>(Random rng, IEnumerable<KeyValuePair<TKey, TValue>> entries)
        where TKey : notnull
    {
        var dictionary = new Dictionary<TKey, TValue>();
        var order = Shuffled(rng, entries);
        foreach (var (key, value) in order)
        {
            dictionary[key] = value;
        }
        // Remove and re-add a few, which changes the enumeration order without changing the entries.
        foreach (var (key, value) in order.Where(_ => rng.Next(4) == 0).ToList())
        {
            dictionary.Remove(key);
            dictionary[key] = value;
        }
        return dictionary;
    }

    private static HashSet<T> BuildSet<T>(Random rng, IEnumerable<T> items)
    {
        var set = new HashSet<T>();
        var order = Shuffled(rng, items);
        foreach (var item in order)
        {
            set.Add(item);
        }
        foreach (var item in order.Where(_ => rng.Next(4) == 0).ToList())
        {
            set.Remove(item);
            set.Add(item);
        }
        return set;
    }

    /// <summary>Stores two equal values built in different orders: the keys are equal and both load equal to them.</summary>
    private void ShouldBeCanonical<T>(T first, T second, Func<T, T, bool> equal, string where)
    {
        var a = ArtifactCodec.Store(_blobs, first, typeof(T));
        var b = ArtifactCodec.Store(_blobs, second, typeof(T));

        a.Encoding.ShouldBe("json", where);
        if (b.Sha != a.Sha)
        {
            string Json(ArtifactRef r) => Encoding.UTF8.GetString(_blobs.Get(r.Sha)) is var json && json.Length > 160 ? json[..160] + "..." : json;
            throw new ShouldAssertException($"{where}: equal values built in different orders get different keys; stored {Json(a)} and {Json(b)}");
        }
        var loaded = (T)ArtifactCodec.Load(_blobs, a, typeof(T))!;
        equal(loaded, first).ShouldBeTrue(where + ": the loaded value differs");
    }

    private static bool SameEntries<TKey, TValue>(IReadOnlyDictionary<TKey, TValue> x, IReadOnlyDictionary<TKey, TValue> y, Func<TValue, TValue, bool>? same = null)
        where TKey : notnull
    {
        same ??= (a, b) => EqualityComparer<TValue>.Default.Equals(a, b);
        return x.Count == y.Count && x.All(e => y.TryGetValue(e.Key, out var other) && same(e.Value, other));
    }

    [Fact]
    public void Store_RandomDictionariesAndSetsInRandomOrder_AreCanonicalAndLoadEqual()
    {
        var failures = new List<string>();
        const int cases = 300;
        for (var seed = 0; seed < cases; seed++)
        {
            var rng = new Random(seed);
            var count = rng.Next(0, 60);
            var where = $"seed {seed}, {count} entries";
            switch (seed % 5)
            {
                case 0:
                {
                    var entries = Enumerable.Range(0, count).Select(_ => RandomKey(rng)).Distinct().Select(k => KeyValuePair.Create(k, rng.Next())).ToList();
                    Check(failures, where + " Dictionary<string, int>", () => ShouldBeCanonical(Build(rng, entries), Build(rng, entries), (x, y) => SameEntries(x, y), where + " Dictionary<string, int>"));
                    break;
                }
                case 1:
                {
                    var entries = Enumerable.Range(0, count).Select(_ => rng.Next(-1000, 1000)).Distinct()
                        .Select(k => KeyValuePair.Create(k, rng.Next(10) == 0 ? double.NaN : rng.NextDouble() * 1e6)).ToList();
                    Check(failures, where + " Dictionary<int, double>", () => ShouldBeCanonical(Build(rng, entries), Build(rng, entries), (x, y) => SameEntries(x, y), where + " Dictionary<int, double>"));
                    break;
                }
                case 2:
                {
                    var items = Enumerable.Range(0, count).Select(_ => RandomKey(rng)).Distinct().ToList();
                    Check(failures, where + " HashSet<string>", () => ShouldBeCanonical(BuildSet(rng, items), BuildSet(rng, items), (x, y) => x.SetEquals(y), where + " HashSet<string>"));
                    break;
                }
                case 3:
                {
                    var items = Enumerable.Range(0, count).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToList();
                    Check(failures, where + " HashSet<long>", () => ShouldBeCanonical(BuildSet(rng, items), BuildSet(rng, items), (x, y) => x.SetEquals(y), where + " HashSet<long>"));
                    break;
                }
                default:
                {
                    // Unordered collections as members of an object: the object's serializer sorts them too.
                    var counts = Enumerable.Range(0, count).Select(_ => RandomKey(rng)).Distinct().Select(k => KeyValuePair.Create(k, rng.Next(100))).ToList();
                    var tags = Enumerable.Range(0, count).Select(_ => RandomKey(rng)).Distinct().ToList();
                    Experiment Make() => new() { Name = "e", Counts = Build(rng, counts), Tags = BuildSet(rng, tags) };
                    Check(failures, where + " object with a dictionary and a set", () => ShouldBeCanonical(Make(), Make(), (x, y) => SameEntries(x.Counts, y.Counts) && x.Tags.SetEquals(y.Tags), where + " object with a dictionary and a set"));
                    break;
                }
            }
        }
        ShouldAllPass(failures, cases);
    }

    [Fact]
    public void Store_DifferentDictionaries_GetDifferentKeys()
    {
        for (var seed = 0; seed < 100; seed++)
        {
            var rng = new Random(seed);
            var entries = Enumerable.Range(0, rng.Next(0, 30)).Select(i => KeyValuePair.Create("k" + i, rng.Next())).ToList();
            var more = entries.Append(KeyValuePair.Create("extra", 1)).ToList();

            var a = ArtifactCodec.Store(_blobs, Build(rng, entries), typeof(Dictionary<string, int>));
            var b = ArtifactCodec.Store(_blobs, Build(rng, more), typeof(Dictionary<string, int>));

            b.Sha.ShouldNotBe(a.Sha, $"seed {seed}");
        }
    }

    /// <summary>
    /// Dictionaries and sets nested in a dictionary's values (or a set's elements) must be canonical as well: equal
    /// values give equal keys whatever the order their inner collections were built in.
    /// </summary>
    [Fact]
    public void Store_NestedDictionariesAndSetsInRandomOrder_AreCanonical()
    {
        var failures = new List<string>();
        const int seeds = 100;
        for (var seed = 0; seed < seeds; seed++)
        {
            var rng = new Random(seed);
            var outer = Enumerable.Range(0, rng.Next(1, 8)).Select(i => "group" + i).ToList();
            var inner = outer.ToDictionary(k => k, _ => Enumerable.Range(0, rng.Next(2, 20)).Select(i => KeyValuePair.Create("item" + i, rng.Next())).ToList());
            var sets = outer.ToDictionary(k => k, _ => Enumerable.Range(0, rng.Next(2, 20)).Select(_ => rng.Next()).Distinct().ToList());
            var where = $"seed {seed}";

            Dictionary<string, Dictionary<string, int>> Nested() => Build(rng, inner.Select(e => KeyValuePair.Create(e.Key, Build(rng, e.Value))));
            Check(failures, where + " Dictionary<string, Dictionary<string, int>>", () => ShouldBeCanonical(Nested(), Nested(), (x, y) => SameEntries(x, y, (a, b) => SameEntries(a, b)), where + " Dictionary<string, Dictionary<string, int>>"));

            Dictionary<string, HashSet<int>> OfSets() => Build(rng, sets.Select(e => KeyValuePair.Create(e.Key, BuildSet(rng, e.Value))));
            Check(failures, where + " Dictionary<string, HashSet<int>>", () => ShouldBeCanonical(OfSets(), OfSets(), (x, y) => SameEntries(x, y, (a, b) => a.SetEquals(b)), where + " Dictionary<string, HashSet<int>>"));
        }
        ShouldAllPass(failures, 2 * seeds);
    }
}
