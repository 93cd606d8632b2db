using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Sdk.Datastore;

/// <summary>
/// Turns artifact values into bytes and back, canonically (equal values give equal bytes) and safely (no type is
/// ever loaded from the data): raw bytes for <c>byte[]</c>, UTF-8 for <c>string</c>, little-endian element bytes
/// for arrays of primitives, System.Text.Json for everything else.
/// </summary>
/// <remarks>
/// The encoding name is stored next to each artifact so that readers (<c>dump</c>, the client) can show a value
/// without the flow's assembly. Encodings: <c>null</c>, <c>bytes</c>, <c>string</c>, <c>array:&lt;type&gt;</c>,
/// <c>json</c>, <c>custom:&lt;serializer name&gt;</c>, <c>text:&lt;charset&gt;</c> (included text files).
/// <see cref="Store"/> and <see cref="Load"/> stream: a value of any size is written and read with memory bounded by
/// buffers beyond the value itself (docs/datastore.md, "Values").
/// </remarks>
internal static class ArtifactCodec
{
    public const string Null = "null";
    public const string Bytes = "bytes";
    public const string Text = "string";
    public const string Json = "json";
    private const string ArrayPrefix = "array:";

    /// <summary>The encoding of a value stored by a user-registered serializer: <c>custom:&lt;name&gt;</c>.</summary>
    public const string CustomPrefix = "custom:";

    /// <summary>Strings up to this many characters are encoded in one piece; longer ones stream.</summary>
    private const int StringChunk = 1 << 20;

    private static readonly Dictionary<Type, string> s_primitiveArrays = new()
    {
        [typeof(bool[])] = "bool",
        [typeof(sbyte[])] = "int8",
        [typeof(short[])] = "int16",
        [typeof(ushort[])] = "uint16",
        [typeof(int[])] = "int32",
        [typeof(uint[])] = "uint32",
        [typeof(long[])] = "int64",
        [typeof(ulong[])] = "uint64",
        [typeof(float[])] = "float32",
        [typeof(double[])] = "float64",
        [typeof(char[])] = "char",
    };

    private static readonly Dictionary<Type, IArrayCodec> s_arrays = new()
    {
        [typeof(bool[])] = new ArrayCodec<bool>("bool"),
        [typeof(sbyte[])] = new ArrayCodec<sbyte>("int8"),
        [typeof(short[])] = new ArrayCodec<short>("int16"),
        [typeof(ushort[])] = new ArrayCodec<ushort>("uint16"),
        [typeof(int[])] = new ArrayCodec<int>("int32"),
        [typeof(uint[])] = new ArrayCodec<uint>("uint32"),
        [typeof(long[])] = new ArrayCodec<long>("int64"),
        [typeof(ulong[])] = new ArrayCodec<ulong>("uint64"),
        [typeof(float[])] = new ArrayCodec<float>("float32"),
        [typeof(double[])] = new ArrayCodec<double>("float64"),
        [typeof(char[])] = new ArrayCodec<char>("char"),
    };

    private interface IArrayCodec
    {
        string Name { get; }

        (string Sha, long Length) Store(BlobStore blobs, Array array);

        Array Load(BlobStore blobs, string sha);
    }

    /// <summary>Arrays of a primitive type as their little-endian element bytes, without copying them.</summary>
    private sealed class ArrayCodec<T>(string name) : IArrayCodec
        where T : unmanaged
    {
        private static readonly int s_size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

        public string Name => name;

        public (string Sha, long Length) Store(BlobStore blobs, Array array)
        {
            var items = (T[])array;
            var length = (long)items.Length * s_size;
            if (length <= int.MaxValue)
            {
                using var bytes = new ArrayBytes<T>(items);
                return (blobs.Put(bytes.Memory), length);
            }
            using var writer = blobs.Create();
            var step = BlobStore.ChunkSize / s_size;
            for (var offset = 0; offset < items.Length; offset += step)
            {
                writer.Write(MemoryMarshal.AsBytes(items.AsSpan(offset, Math.Min(step, items.Length - offset))));
            }
            return writer.Commit();
        }

        public Array Load(BlobStore blobs, string sha)
        {
            T[]? items = null;
            var length = blobs.LengthOf(sha);
            if (length % s_size != 0 || length / s_size > Array.MaxLength)
            {
                throw new BlobCorruptException(sha, $"its length {length} is not a whole number of {name} elements");
            }
            if (length > int.MaxValue)
            {
                items = GC.AllocateUninitializedArray<T>((int)(length / s_size));
                using var stream = blobs.OpenRead(sha);
                var step = (1 << 20) / s_size;
                for (var offset = 0; offset < items.Length; offset += step)
                {
                    stream.ReadExactly(MemoryMarshal.AsBytes(items.AsSpan(offset, Math.Min(step, items.Length - offset))));
                }
                stream.CopyTo(Stream.Null);
                return items;
            }
            ArrayBytes<T>? bytes = null;
            try
            {
                blobs.ReadCore(sha, n =>
                {
                    items = GC.AllocateUninitializedArray<T>((int)(n / s_size));
                    bytes = new ArrayBytes<T>(items);
                    return bytes.Memory;
                });
            }
            finally
            {
                ((IDisposable?)bytes)?.Dispose();
            }
            return items!;
        }
    }

    /// <summary>The bytes of an array of a primitive type as <see cref="Memory{T}"/>, without a copy.</summary>
    private sealed class ArrayBytes<T>(T[] items) : System.Buffers.MemoryManager<byte>
        where T : unmanaged
    {
        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(items.AsSpan());

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    private static readonly Dictionary<string, Type> s_arrayTypes = s_primitiveArrays.ToDictionary(p => p.Value, p => p.Key);

    public static readonly JsonSerializerOptions ValueOptions = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
        // Public fields are values too: a tuple (double, double) or a struct with fields must not be stored as {}.
        IncludeFields = true,
        // Enums by name: readable in dump, and stable when members are reordered (numbers still read back).
        Converters = { new CanonicalCollectionsConverterFactory(), new JsonStringEnumConverter() },
        // Explicit, so values still serialize where reflection-based JSON is off by default (file-based apps, AOT).
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>
    /// Stores a value of the declared type as a blob, streaming (no second copy of a large value), and returns its
    /// reference; throws <see cref="NotSupportedException"/> or <see cref="JsonException"/> (or what a user's serializer
    /// throws) when it cannot.
    /// </summary>
    public static ArtifactRef Store(BlobStore blobs, object? value, Type declaredType)
    {
        var typeName = declaredType.FullName ?? declaredType.Name;
        switch (value)
        {
            case null:
                return new ArtifactRef(blobs.Put(Array.Empty<byte>()), Null, typeName, 0);
            case byte[] bytes when value.GetType() == typeof(byte[]): // an sbyte[] passes as byte[] at run time
                return new ArtifactRef(blobs.Put(bytes), Bytes, typeName, bytes.LongLength);
            case string text when text.Length <= StringChunk:
                var utf8 = Encoding.UTF8.GetBytes(text);
                return new ArtifactRef(blobs.Put(utf8), Text, typeName, utf8.LongLength);
            case string text:
                using (var writer = blobs.Create())
                {
                    var buffer = new byte[Encoding.UTF8.GetMaxByteCount(StringChunk)];
                    var encoder = Encoding.UTF8.GetEncoder();
                    for (var offset = 0; offset < text.Length; offset += StringChunk)
                    {
                        var n = Math.Min(StringChunk, text.Length - offset);
                        var written = encoder.GetBytes(text.AsSpan(offset, n), buffer, flush: offset + n == text.Length);
                        writer.Write(buffer, 0, written);
                    }
                    var (sha, length) = writer.Commit();
                    return new ArtifactRef(sha, Text, typeName, length);
                }
            case IncludedFile { Sha: { } stored } file:
                return new ArtifactRef(stored, Bytes, typeName, file.Length);
            case IncludedFile { SourcePath: { } path }:
                var (fileSha, fileLength) = blobs.PutFile(path);
                return new ArtifactRef(fileSha, Bytes, typeName, fileLength);
            case IncludedFile file:
                using (var content = file.OpenRead())
                {
                    var (sha, length) = blobs.PutStream(content);
                    return new ArtifactRef(sha, Bytes, typeName, length);
                }
            case Stream stream:
                var (streamSha, streamLength) = blobs.PutStream(stream);
                return new ArtifactRef(streamSha, Bytes, typeName, streamLength);
        }
        if (s_arrays.TryGetValue(value.GetType(), out var array))
        {
            var (sha, length) = array.Store(blobs, (Array)value);
            return new ArtifactRef(sha, ArrayPrefix + array.Name, typeName, length);
        }
        using (var writer = blobs.Create())
        {
            string encoding;
            if (ArtifactSerializers.For(declaredType, value.GetType()) is { } custom)
            {
                custom.Write(value, writer);
                encoding = CustomPrefix + custom.Name;
            }
            else
            {
                JsonSerializer.Serialize(writer, value, declaredType, ValueOptions);
                encoding = Json;
            }
            var (sha, length) = writer.Commit();
            return new ArtifactRef(sha, encoding, typeName, length);
        }
    }

    /// <summary>
    /// Loads a stored value as <paramref name="type"/>, streaming: arrays are read straight into the array they
    /// become, JSON and custom values are parsed from a verifying stream, and a <see cref="Stream"/> or
    /// <see cref="IncludedFile"/> is opened, not read.
    /// </summary>
    public static object? Load(BlobStore blobs, ArtifactRef reference, Type type)
    {
        var encoding = reference.Encoding;
        if (encoding.StartsWith(CustomPrefix, StringComparison.Ordinal))
        {
            var name = encoding[CustomPrefix.Length..];
            var serializer = ArtifactSerializers.Named(name, type)
                ?? throw new MissingSerializerException(name, reference.Type);
            using var stream = blobs.OpenRead(reference.Sha);
            var value = serializer.Read(stream);
            stream.CopyTo(Stream.Null); // read to the end, so the hash is checked
            return value;
        }
        if (type == typeof(Stream) && encoding is Bytes or Null || type == typeof(Stream) && encoding.StartsWith(TextPrefix, StringComparison.Ordinal))
        {
            return blobs.OpenRead(reference.Sha);
        }
        if (type == typeof(IncludedFile) && (encoding is Bytes or Null || encoding.StartsWith(TextPrefix, StringComparison.Ordinal)))
        {
            return new IncludedFile(null, reference.Size, () => blobs.OpenRead(reference.Sha), sha: reference.Sha);
        }
        if (encoding.StartsWith(ArrayPrefix, StringComparison.Ordinal) && s_arrayTypes.TryGetValue(encoding[ArrayPrefix.Length..], out var arrayType)
            && type.IsAssignableFrom(arrayType))
        {
            return s_arrays[arrayType].Load(blobs, reference.Sha);
        }
        if (encoding == Bytes && type.IsAssignableFrom(typeof(byte[])))
        {
            return blobs.Get(reference.Sha); // read straight into the array returned
        }
        if (encoding == Json)
        {
            using var stream = blobs.OpenRead(reference.Sha);
            return JsonSerializer.Deserialize(stream, type, ValueOptions);
        }
        return Deserialize(blobs.Get(reference.Sha), encoding, type);
    }

    /// <summary>Serializes a value of the declared type; throws <see cref="NotSupportedException"/> or <see cref="JsonException"/> when it cannot.</summary>
    public static (string Encoding, byte[] Bytes) Serialize(object? value, Type declaredType)
    {
        switch (value)
        {
            case null:
                return (Null, []);
            case byte[] bytes when value.GetType() == typeof(byte[]): // an sbyte[] passes as byte[] at run time
                return (Bytes, bytes);
            case string text:
                return (Text, Encoding.UTF8.GetBytes(text));
        }
        if (s_primitiveArrays.TryGetValue(value.GetType(), out var element))
        {
            return (ArrayPrefix + element, PrimitiveBytes((Array)value));
        }
        return (Json, JsonSerializer.SerializeToUtf8Bytes(value, declaredType, ValueOptions));
    }

    /// <summary>The encoding of an included text file: its bytes as they were, in the named character set.</summary>
    public const string TextPrefix = "text:";

    /// <summary>Decodes the bytes of an included text file (a byte-order mark wins over the named encoding).</summary>
    public static string DecodeText(ReadOnlySpan<byte> bytes, string encoding)
    {
        using var reader = new StreamReader(new MemoryStream(bytes.ToArray()), Encoding.GetEncoding(encoding[TextPrefix.Length..]), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    public static object? Deserialize(ReadOnlySpan<byte> bytes, string encoding, Type type)
    {
        if (type == typeof(IncludedFile) && encoding is Bytes or Null || encoding.StartsWith(TextPrefix, StringComparison.Ordinal) && type == typeof(IncludedFile))
        {
            var copy = bytes.ToArray();
            return new IncludedFile(null, copy.Length, () => new MemoryStream(copy, writable: false));
        }
        if (encoding.StartsWith(TextPrefix, StringComparison.Ordinal))
        {
            return type == typeof(byte[]) ? bytes.ToArray() : DecodeText(bytes, encoding);
        }
        switch (encoding)
        {
            case Null:
                return null;
            case Bytes:
                return bytes.ToArray();
            case Text:
                return Encoding.UTF8.GetString(bytes);
            case Json:
                return JsonSerializer.Deserialize(bytes, type, ValueOptions);
        }
        if (encoding.StartsWith(CustomPrefix, StringComparison.Ordinal))
        {
            var name = encoding[CustomPrefix.Length..];
            var serializer = ArtifactSerializers.Named(name, type) ?? throw new MissingSerializerException(name, type.FullName ?? type.Name);
            return serializer.Read(new MemoryStream(bytes.ToArray(), writable: false));
        }
        if (encoding.StartsWith(ArrayPrefix, StringComparison.Ordinal) && s_arrayTypes.TryGetValue(encoding[ArrayPrefix.Length..], out var arrayType))
        {
            var array = FromPrimitiveBytes(bytes, arrayType);
            // A List<int> stored from an int[] property type change still reads: fall back through JSON.
            return type.IsAssignableFrom(arrayType) ? array : JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(array, arrayType), type, ValueOptions);
        }
        throw new NotSupportedException($"unknown encoding '{encoding}'");
    }

    /// <summary>Writes a stored value as JSON without knowing its CLR type (for <c>dump</c>).</summary>
    public static void WriteJson(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes, string encoding)
    {
        if (encoding.StartsWith(CustomPrefix, StringComparison.Ordinal))
        {
            WriteCustomPlaceholder(writer, encoding, bytes.Length);
            return;
        }
        if (encoding.StartsWith(TextPrefix, StringComparison.Ordinal))
        {
            writer.WriteStringValue(DecodeText(bytes, encoding));
            return;
        }
        switch (encoding)
        {
            case Null:
                writer.WriteNullValue();
                return;
            case Bytes:
                writer.WriteBase64StringValue(bytes);
                return;
            case Text:
                writer.WriteStringValue(Encoding.UTF8.GetString(bytes));
                return;
            case Json:
                using (var doc = JsonDocument.Parse(bytes.ToArray()))
                {
                    doc.RootElement.WriteTo(writer);
                }
                return;
        }
        if (encoding.StartsWith(ArrayPrefix, StringComparison.Ordinal) && s_arrayTypes.TryGetValue(encoding[ArrayPrefix.Length..], out var arrayType))
        {
            // By hand: dump shows values without the serializer's start-up cost.
            writer.WriteStartArray();
            foreach (var item in FromPrimitiveBytes(bytes, arrayType))
            {
                WriteElement(writer, item);
            }
            writer.WriteEndArray();
            return;
        }
        throw new NotSupportedException($"unknown encoding '{encoding}'");
    }

    /// <summary>A value stored by a user's serializer cannot be shown as JSON: its serializer and size are.</summary>
    public static void WriteCustomPlaceholder(Utf8JsonWriter writer, string encoding, long size)
    {
        writer.WriteStartObject();
        writer.WriteString("$serializer", encoding[CustomPrefix.Length..]);
        writer.WriteNumber("size", size);
        writer.WriteEndObject();
    }

    private static void WriteElement(Utf8JsonWriter writer, object item)
    {
        switch (item)
        {
            case bool b: writer.WriteBooleanValue(b); break;
            case char c: writer.WriteStringValue(c.ToString()); break;
            case float f when !float.IsFinite(f): writer.WriteStringValue(f.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case double d when !double.IsFinite(d): writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case float f: writer.WriteNumberValue(f); break;
            case double d: writer.WriteNumberValue(d); break;
            case sbyte v: writer.WriteNumberValue(v); break;
            case short v: writer.WriteNumberValue(v); break;
            case ushort v: writer.WriteNumberValue(v); break;
            case int v: writer.WriteNumberValue(v); break;
            case uint v: writer.WriteNumberValue(v); break;
            case long v: writer.WriteNumberValue(v); break;
            case ulong v: writer.WriteNumberValue(v); break;
            default: throw new NotSupportedException(item.GetType().FullName);
        }
    }

    private static byte[] PrimitiveBytes(Array array) => array switch
    {
        bool[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        sbyte[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        short[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        ushort[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        int[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        uint[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        long[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        ulong[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        float[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        double[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        char[] a => MemoryMarshal.AsBytes(a.AsSpan()).ToArray(),
        _ => throw new NotSupportedException(array.GetType().FullName),
    };

    private static Array FromPrimitiveBytes(ReadOnlySpan<byte> bytes, Type arrayType) => arrayType switch
    {
        _ when arrayType == typeof(bool[]) => MemoryMarshal.Cast<byte, bool>(bytes).ToArray(),
        _ when arrayType == typeof(sbyte[]) => MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(),
        _ when arrayType == typeof(short[]) => MemoryMarshal.Cast<byte, short>(bytes).ToArray(),
        _ when arrayType == typeof(ushort[]) => MemoryMarshal.Cast<byte, ushort>(bytes).ToArray(),
        _ when arrayType == typeof(int[]) => MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
        _ when arrayType == typeof(uint[]) => MemoryMarshal.Cast<byte, uint>(bytes).ToArray(),
        _ when arrayType == typeof(long[]) => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
        _ when arrayType == typeof(ulong[]) => MemoryMarshal.Cast<byte, ulong>(bytes).ToArray(),
        _ when arrayType == typeof(float[]) => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
        _ when arrayType == typeof(double[]) => MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        _ when arrayType == typeof(char[]) => MemoryMarshal.Cast<byte, char>(bytes).ToArray(),
        _ => throw new NotSupportedException(arrayType.FullName),
    };
}

/// <summary>An artifact was stored by a serializer this process does not know.</summary>
internal sealed class MissingSerializerException(string name, string type)
    : Exception($"it was stored by the serializer '{name}' (type {type}), which is not registered in this process; reference the assembly that declares it with [assembly: ArtifactSerializer(...)], or call ArtifactSerializers.Register")
{
    public string Name { get; } = name;
}
