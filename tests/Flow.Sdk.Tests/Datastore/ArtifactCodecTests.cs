using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Datastore;

public sealed class ArtifactCodecTests
{
    private static T? RoundTrip<T>(T? value, string expectedEncoding)
    {
        var (encoding, bytes) = ArtifactCodec.Serialize(value, typeof(T));
        encoding.ShouldBe(expectedEncoding);
        return (T?)ArtifactCodec.Deserialize(bytes, encoding, typeof(T));
    }

    private static string Json<T>(T? value)
    {
        var (encoding, bytes) = ArtifactCodec.Serialize(value, typeof(T));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ArtifactCodec.WriteJson(writer, bytes, encoding);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public void Serialize_String_IsUtf8TextAndRoundTrips()
    {
        const string text = "héllo, wörld ✓ 😀";

        var (encoding, bytes) = ArtifactCodec.Serialize(text, typeof(string));

        encoding.ShouldBe("string");
        bytes.ShouldBe(Encoding.UTF8.GetBytes(text));
        RoundTrip(text, "string").ShouldBe(text);
    }

    [Fact]
    public void Serialize_EmptyString_RoundTripsAsEmptyNotNull()
    {
        RoundTrip(string.Empty, "string").ShouldBe(string.Empty);
    }

    [Fact]
    public void Serialize_ByteArray_IsStoredAsIsAndRoundTrips()
    {
        byte[] data = [0, 1, 2, 254, 255];

        var (encoding, bytes) = ArtifactCodec.Serialize(data, typeof(byte[]));

        encoding.ShouldBe("bytes");
        bytes.ShouldBe(data);
        RoundTrip(data, "bytes").ShouldBe(data);
    }

    [Fact]
    public void Serialize_IntArray_UsesRawLittleEndianElements()
    {
        int[] values = [1, 256, -1];

        var (encoding, bytes) = ArtifactCodec.Serialize(values, typeof(int[]));

        encoding.ShouldBe("array:int32");
        bytes.ShouldBe(new byte[] { 1, 0, 0, 0, 0, 1, 0, 0, 255, 255, 255, 255 });
        RoundTrip(values, "array:int32").ShouldBe(values);
    }

    [Fact]
    public void Serialize_DoubleArray_RoundTripsBitExactly()
    {
        double[] values = [0.1, -2.5e300, double.NaN, double.PositiveInfinity, -0.0, double.Epsilon];

        var back = RoundTrip(values, "array:float64")!;

        back.Select(BitConverter.DoubleToInt64Bits).ShouldBe(values.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Serialize_LongArray_RoundTrips()
    {
        long[] values = [long.MinValue, 0, long.MaxValue];

        RoundTrip(values, "array:int64").ShouldBe(values);
    }

    [Fact]
    public void Serialize_BoolArray_RoundTrips()
    {
        bool[] values = [true, false, false, true];

        RoundTrip(values, "array:bool").ShouldBe(values);
    }

    [Fact]
    public void Serialize_EmptyIntArray_RoundTripsAsEmptyArray()
    {
        RoundTrip(Array.Empty<int>(), "array:int32").ShouldBeEmpty();
    }

    [Fact]
    public void Serialize_IntArrayDeclaredAsObject_StillUsesTheArrayEncoding()
    {
        var (encoding, _) = ArtifactCodec.Serialize(new[] { 1, 2 }, typeof(object));

        encoding.ShouldBe("array:int32");
    }

    [Fact]
    public void Serialize_Null_IsEmptyAndReadsBackAsNull()
    {
        var (encoding, bytes) = ArtifactCodec.Serialize(null, typeof(List<int>));

        encoding.ShouldBe("null");
        bytes.ShouldBeEmpty();
        ArtifactCodec.Deserialize(bytes, encoding, typeof(List<int>)).ShouldBeNull();
    }

    [Fact]
    public void Serialize_Record_RoundTripsThroughJson()
    {
        RoundTrip(new Point(3, -4), "json").ShouldBe(new Point(3, -4));
    }

    [Fact]
    public void Serialize_ListOfInt_RoundTripsThroughJson()
    {
        RoundTrip(new List<int> { 5, 3, 1 }, "json").ShouldBe([5, 3, 1]);
    }

    [Fact]
    public void Serialize_Dictionary_RoundTripsThroughJson()
    {
        var map = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };

        var back = RoundTrip(map, "json")!;

        back.Count.ShouldBe(2);
        back["a"].ShouldBe(1);
        back["b"].ShouldBe(2);
    }

    [Fact]
    public void Serialize_UtcDateTime_RoundTripsWithItsKind()
    {
        var when = new DateTime(2025, 3, 1, 12, 34, 56, 789, DateTimeKind.Utc).AddTicks(1234);

        var back = RoundTrip(when, "json");

        back.ShouldBe(when);
        back.Kind.ShouldBe(DateTimeKind.Utc);
    }

    [Fact]
    public void Serialize_DoubleNaN_RoundTrips()
    {
        double.IsNaN(RoundTrip(double.NaN, "json")).ShouldBeTrue();
        RoundTrip(double.NegativeInfinity, "json").ShouldBe(double.NegativeInfinity);
    }

    [Fact]
    public void Serialize_EqualValues_GiveEqualBytes()
    {
        ArtifactCodec.Serialize(new Point(1, 2), typeof(Point)).Bytes
            .ShouldBe(ArtifactCodec.Serialize(new Point(1, 2), typeof(Point)).Bytes);
        ArtifactCodec.Serialize(new List<int> { 1, 2, 3 }, typeof(List<int>)).Bytes
            .ShouldBe(ArtifactCodec.Serialize(new List<int>([1, 2, 3]), typeof(List<int>)).Bytes);
        ArtifactCodec.Serialize(new[] { 1.5, 2.5 }, typeof(double[])).Bytes
            .ShouldBe(ArtifactCodec.Serialize(new[] { 1.5, 2.5 }, typeof(double[])).Bytes);
        ArtifactCodec.Serialize(new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 }, typeof(Dictionary<string, int>)).Bytes
            .ShouldBe(ArtifactCodec.Serialize(new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 }, typeof(Dictionary<string, int>)).Bytes);
    }

    [Fact]
    public void Serialize_DifferentValues_GiveDifferentBytes()
    {
        ArtifactCodec.Serialize(new Point(1, 2), typeof(Point)).Bytes
            .ShouldNotBe(ArtifactCodec.Serialize(new Point(2, 1), typeof(Point)).Bytes);
    }

    [Fact]
    public void Serialize_EqualDictionariesBuiltInDifferentOrder_GiveEqualBytes()
    {
        var ab = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };
        var ba = new Dictionary<string, int> { ["b"] = 2, ["a"] = 1 };

        ArtifactCodec.Serialize(ab, typeof(Dictionary<string, int>)).Bytes
            .ShouldBe(ArtifactCodec.Serialize(ba, typeof(Dictionary<string, int>)).Bytes);
    }

    [Fact]
    public void Deserialize_StoredIntArrayReadAsList_FallsBackThroughJson()
    {
        var (encoding, bytes) = ArtifactCodec.Serialize(new[] { 4, 5, 6 }, typeof(int[]));

        var list = ArtifactCodec.Deserialize(bytes, encoding, typeof(List<int>));

        list.ShouldBeOfType<List<int>>().ShouldBe([4, 5, 6]);
    }

    [Fact]
    public void Deserialize_UnknownEncoding_Throws()
    {
        Should.Throw<NotSupportedException>(() => ArtifactCodec.Deserialize([1, 2], "pickle", typeof(object)))
            .Message.ShouldContain("pickle");
        Should.Throw<NotSupportedException>(() => ArtifactCodec.Deserialize([1, 2], "array:int128", typeof(object)));
    }

    [Fact]
    public void WriteJson_Bytes_AreBase64()
    {
        byte[] data = [0, 1, 2, 250, 251, 252];

        Json(data).ShouldBe("\"" + Convert.ToBase64String(data) + "\"");
    }

    [Fact]
    public void WriteJson_String_IsAJsonString()
    {
        var json = Json("say \"hi\"\n");

        using var document = JsonDocument.Parse(json);
        document.RootElement.ValueKind.ShouldBe(JsonValueKind.String);
        document.RootElement.GetString().ShouldBe("say \"hi\"\n");
    }

    [Fact]
    public void WriteJson_PrimitiveArrays_AreJsonArraysWithoutTheClrType()
    {
        Json(new[] { 1, 2, 3 }).ShouldBe("[1,2,3]");
        Json(new[] { 1.5, -2.0 }).ShouldBe("[1.5,-2]");
        Json(new[] { true, false }).ShouldBe("[true,false]");
        Json(new[] { 9_000_000_000L }).ShouldBe("[9000000000]");
    }

    [Fact]
    public void WriteJson_JsonValue_IsWrittenAsStoredWithoutTheClrType()
    {
        Json(new Point(1, 2)).ShouldBe("{\"X\":1,\"Y\":2}");
        Json(new List<int> { 7 }).ShouldBe("[7]");
    }

    [Fact]
    public void WriteJson_Null_IsJsonNull()
    {
        Json<string>(null).ShouldBe("null");
    }
}
