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
/// <c>json</c>.
/// </remarks>
internal static class ArtifactCodec
{
    public const string Null = "null";
    public const string Bytes = "bytes";
    public const string Text = "string";
    public const string Json = "json";
    private const string ArrayPrefix = "array:";

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

    private static readonly Dictionary<string, Type> s_arrayTypes = s_primitiveArrays.ToDictionary(p => p.Value, p => p.Key);

    public static readonly JsonSerializerOptions ValueOptions = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
        // Public fields are values too: a tuple (double, double) or a struct with fields must not be stored as {}.
        IncludeFields = true,
        // Enums by name: readable in dump, and stable when members are reordered (numbers still read back).
        Converters = { new CanonicalCollectionsConverterFactory(), new JsonStringEnumConverter() },
    };

    /// <summary>Serializes a value of the declared type; throws <see cref="NotSupportedException"/> or <see cref="JsonException"/> when it cannot.</summary>
    public static (string Encoding, byte[] Bytes) Serialize(object? value, Type declaredType)
    {
        switch (value)
        {
            case null:
                return (Null, []);
            case byte[] bytes:
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
