using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Sdk.Datastore;

/// <summary>
/// Makes System.Text.Json canonical for unordered collections: dictionary entries are written sorted by key
/// (ordinal, on the key's JSON text) and set elements sorted by their JSON text, so that equal values give equal
/// bytes whatever their insertion order (dedup and merge-conflict checks rely on it). Reading is unchanged.
/// </summary>
internal sealed class CanonicalCollectionsConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        DictionaryTypes(typeToConvert) is not null || SetElement(typeToConvert) is not null;

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        if (DictionaryTypes(typeToConvert) is { } kv)
        {
            return (JsonConverter?)Activator.CreateInstance(typeof(DictionaryConverter<,,>).MakeGenericType(typeToConvert, kv.Key, kv.Value));
        }
        var element = SetElement(typeToConvert)!;
        return (JsonConverter?)Activator.CreateInstance(typeof(SetConverter<,>).MakeGenericType(typeToConvert, element));
    }

    private static (Type Key, Type Value)? DictionaryTypes(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var d
            && (d == typeof(Dictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)))
        {
            var args = type.GetGenericArguments();
            return (args[0], args[1]);
        }
        return null;
    }

    private static Type? SetElement(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(HashSet<>) || d == typeof(ISet<>) || d == typeof(IReadOnlySet<>))
            ? type.GetGenericArguments()[0]
            : null;

    /// <summary>Options identical to the caller's but without this factory: used to read, and to write keys and elements.</summary>
    private static JsonSerializerOptions Inner(JsonSerializerOptions options)
    {
        var inner = new JsonSerializerOptions(options);
        for (var i = inner.Converters.Count - 1; i >= 0; i--)
        {
            if (inner.Converters[i] is CanonicalCollectionsConverterFactory)
            {
                inner.Converters.RemoveAt(i);
            }
        }
        return inner;
    }

    private sealed class DictionaryConverter<TDictionary, TKey, TValue> : JsonConverter<TDictionary>
        where TKey : notnull
    {
        private JsonSerializerOptions? _inner;

        public override TDictionary? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<TDictionary>(ref reader, _inner ??= Inner(options));

        public override void Write(Utf8JsonWriter writer, TDictionary value, JsonSerializerOptions options)
        {
            _inner ??= Inner(options);
            // Serializing a one-entry dictionary gives exactly the property name STJ would write for the key.
            var entries = ((IEnumerable<KeyValuePair<TKey, TValue>>)value!)
                .Select(e => (Name: KeyText(e.Key), e.Value))
                .OrderBy(e => e.Name, StringComparer.Ordinal);
            writer.WriteStartObject();
            foreach (var (name, item) in entries)
            {
                writer.WritePropertyName(name);
                // The outer options: a dictionary or set nested in a value is written canonically too.
                JsonSerializer.Serialize(writer, item, options);
            }
            writer.WriteEndObject();
        }

        private string KeyText(TKey key)
        {
            if (key is string text)
            {
                return text;
            }
            using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<TKey, int> { [key] = 0 }, _inner));
            return doc.RootElement.EnumerateObject().First().Name;
        }
    }

    private sealed class SetConverter<TSet, TElement> : JsonConverter<TSet>
    {
        private JsonSerializerOptions? _inner;

        public override TSet? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<TSet>(ref reader, _inner ??= Inner(options));

        public override void Write(Utf8JsonWriter writer, TSet value, JsonSerializerOptions options)
        {
            var elements = ((IEnumerable)value!).Cast<TElement>()
                .Select(e => JsonSerializer.SerializeToUtf8Bytes(e, options))
                .OrderBy(b => b, ByteOrder.Instance);
            writer.WriteStartArray();
            foreach (var element in elements)
            {
                writer.WriteRawValue(element, skipInputValidation: true);
            }
            writer.WriteEndArray();
        }
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
