using System.IO.Abstractions;
using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>A flow with included files of the three supported property types, and one plain parameter.</summary>
public sealed class IncludeFileFlow : FlowSpec
{
    public string Notes { get; init; } = "";

    public string Latin { get; init; } = "";

    public byte[] Raw { get; init; } = [];

    public IncludedFile Archive { get; init; } = IncludedFile.Empty;

    public int Count { get; init; } = 3;
}

[Collection(EnvironmentCollection.Name)]
public sealed class IncludedFileTests : IDisposable
{
    private readonly TempDirectory _temp = new("flow-sdk-tests-");
    private readonly EnvironmentScope _environment = new EnvironmentScope().Clear(
        "FLOW_RUN_NOTES", "FLOW_RUN_LATIN", "FLOW_RUN_RAW", "FLOW_RUN_ARCHIVE", "FLOW_RUN_COUNT");

    public void Dispose()
    {
        _environment.Dispose();
        _temp.Dispose();
    }

    private static GraphParameter Notes(string? defaultPath = null, bool required = false, string? encoding = "utf-8") =>
        new("Notes", "notes", "string", defaultPath, required, null, IsFile: true, Encoding: encoding);

    private static GraphParameter Latin() => new("Latin", "latin", "string", null, false, null, IsFile: true, Encoding: "iso-8859-1");

    private static GraphParameter Raw(string? defaultPath = null) => new("Raw", "raw", "byte[]", defaultPath, false, null, IsFile: true);

    private static GraphParameter Archive(string? defaultPath = null) => new("Archive", "archive", "IncludedFile", defaultPath, false, null, IsFile: true);

    private static GraphParameter Count() => TestGraphs.Parameter("Count", "count", "int", "3");

    private static FlowDefinition Definition(params GraphParameter[] parameters)
    {
        var graph = new FlowGraph(nameof(IncludeFileFlow), null, [TestGraphs.Linear("Start", "End"), TestGraphs.End()], parameters);
        return new FlowDefinition(
            TestGraphs.Json(graph),
            () => new IncludeFileFlow(),
            _ => new IncludeFileFlow(),
            new Dictionary<string, StepInvoker>(StringComparer.Ordinal),
            [.. parameters.Select(p =>
            {
                var property = typeof(IncludeFileFlow).GetProperty(p.Name)!;
                return new ParameterDefinition(p.Name, property.PropertyType, property.GetValue);
            })]);
    }

    private static Dictionary<string, string?> Given(params (string Option, string? Value)[] given) =>
        given.ToDictionary(g => g.Option, g => g.Value, StringComparer.Ordinal);

    private static IncludedPath ResolveFile(GraphParameter parameter, params (string Option, string? Value)[] given) =>
        ParameterBinder.Resolve(Definition(parameter), Given(given))[parameter.Name].ShouldBeOfType<IncludedPath>();

    private static FlowException Fails(GraphParameter parameter, params (string Option, string? Value)[] given)
    {
        var error = Should.Throw<FlowException>(() => ParameterBinder.Resolve(Definition(parameter), Given(given)));
        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldNotContain('\n');
        return error;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = _temp.Combine(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private FlowDatastore Store() => FlowDatastore.Open(new FileSystem(), _temp.Combine(".flow"), create: true);

    private string[] BlobFiles() => Directory.GetFiles(_temp.Combine(".flow", "blobs"), "*", SearchOption.AllDirectories);

    private static byte[] ReadThroughStream(FlowDatastore store, string sha)
    {
        using var stream = store.Blobs.OpenRead(sha);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    // ---- Resolve: where the path comes from ------------------------------------------------------------------

    [Fact]
    public void Resolve_PathFromTheOption_IsKeptAsGivenWithItsFullPath()
    {
        var path = Write("notes.txt", "hello");

        var file = ResolveFile(Notes(), ("notes", path));

        file.Path.ShouldBe(path);
        file.FullPath.ShouldBe(Path.GetFullPath(path));
    }

    [Fact]
    public void Resolve_PathFromTheEnvironment_IsUsedWithoutAnOption()
    {
        var path = Write("env.txt", "from env");
        _environment.Set("FLOW_RUN_NOTES", path);

        ResolveFile(Notes()).Path.ShouldBe(path);
    }

    [Fact]
    public void Resolve_OptionWinsOverTheEnvironment()
    {
        var fromOption = Write("option.txt", "a");
        var fromEnv = Write("env.txt", "b");
        _environment.Set("FLOW_RUN_NOTES", fromEnv);

        ResolveFile(Notes(), ("notes", fromOption)).Path.ShouldBe(fromOption);
    }

    [Fact]
    public void Resolve_EnvironmentWinsOverTheDefaultPath()
    {
        var fromDefault = Write("default.txt", "a");
        var fromEnv = Write("env.txt", "b");
        _environment.Set("FLOW_RUN_NOTES", fromEnv);

        ResolveFile(Notes(defaultPath: fromDefault)).Path.ShouldBe(fromEnv);
    }

    [Fact]
    public void Resolve_NothingGiven_UsesTheDefaultPath()
    {
        var fromDefault = Write("default.txt", "a");

        var file = ResolveFile(Notes(defaultPath: fromDefault));

        file.Path.ShouldBe(fromDefault);
        file.FullPath.ShouldBe(fromDefault);
    }

    [Fact]
    public void Resolve_RelativeDefaultPath_IsResolvedAgainstTheFolderTheRunStartsIn()
    {
        Write(Path.Combine("data", "notes.txt"), "relative");
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(_temp.Path);
        try
        {
            var file = ResolveFile(Notes(defaultPath: Path.Combine("data", "notes.txt")));

            file.Path.ShouldBe(Path.Combine("data", "notes.txt"));
            file.FullPath.ShouldBe(Path.Combine(Directory.GetCurrentDirectory(), "data", "notes.txt"));
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public void Resolve_NoPathAndNoDefault_IsAnIncludedPathWithoutAPath()
    {
        var file = ResolveFile(Notes());

        file.Path.ShouldBeNull();
        file.FullPath.ShouldBeNull();
    }

    [Fact]
    public void Resolve_EveryPropertyTypeResolvesToAnIncludedPath()
    {
        var path = Write("any.bin", [1, 2, 3]);

        var values = ParameterBinder.Resolve(Definition(Notes(), Raw(), Archive(), Count()), Given(("notes", path), ("raw", path), ("archive", path)));

        values["Notes"].ShouldBeOfType<IncludedPath>().Path.ShouldBe(path);
        values["Raw"].ShouldBeOfType<IncludedPath>().Path.ShouldBe(path);
        values["Archive"].ShouldBeOfType<IncludedPath>().Path.ShouldBe(path);
        values["Count"].ShouldBe(3);
    }

    [Fact]
    public void IncludedFiles_ListsTheGivenPathsOnly()
    {
        var path = Write("any.bin", [1]);
        var values = ParameterBinder.Resolve(Definition(Notes(), Raw(), Count()), Given(("raw", path)));

        ParameterBinder.IncludedFiles(values).ShouldBe(new Dictionary<string, string> { ["Raw"] = path });
    }

    // ---- Resolve: errors -------------------------------------------------------------------------------------

    [Fact]
    public void Resolve_MissingFile_NamesTheOptionAndThePath()
    {
        var missing = _temp.Combine("missing.txt");

        var error = Fails(Notes(), ("notes", missing));

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain(missing);
    }

    [Fact]
    public void Resolve_MissingFileInAMissingFolder_NamesTheOptionAndThePath()
    {
        var missing = _temp.Combine("no", "such", "folder", "data.bin");

        var error = Fails(Raw(), ("raw", missing));

        error.Message.ShouldContain("--raw");
        error.Message.ShouldContain(missing);
    }

    [Fact]
    public void Resolve_MissingFileFromTheEnvironment_NamesTheVariable()
    {
        var missing = _temp.Combine("missing.txt");
        _environment.Set("FLOW_RUN_NOTES", missing);

        var error = Fails(Notes());

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain("FLOW_RUN_NOTES");
        error.Message.ShouldContain(missing);
    }

    [Fact]
    public void Resolve_MissingDefaultFile_NamesTheOptionAndThePath()
    {
        var missing = _temp.Combine("missing-default.txt");

        var error = Fails(Archive(defaultPath: missing));

        error.Message.ShouldContain("--archive");
        error.Message.ShouldContain(missing);
    }

    [Fact]
    public void Resolve_FolderInsteadOfAFile_IsUnreadable()
    {
        var folder = _temp.Combine("a-folder");
        Directory.CreateDirectory(folder);

        var error = Fails(Notes(), ("notes", folder));

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain(folder);
    }

    [Fact]
    public void Resolve_RequiredWithNoPath_NamesTheOptionAndTheVariable()
    {
        var error = Fails(Notes(required: true));

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain("FLOW_RUN_NOTES");
    }

    [Fact]
    public void Resolve_RequiredFromTheEnvironment_IsAccepted()
    {
        var path = Write("env.txt", "x");
        _environment.Set("FLOW_RUN_NOTES", path);

        ResolveFile(Notes(required: true)).Path.ShouldBe(path);
    }

    [Fact]
    public void Resolve_RequiredGivenAnEmptyPath_Fails()
    {
        var error = Fails(Notes(required: true), ("notes", ""));

        error.Message.ShouldContain("--notes");
    }

    [Fact]
    public void Resolve_OptionWithoutAPath_NeedsAPath()
    {
        var error = Fails(Notes(), ("notes", null));

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain("path");
    }

    [Fact]
    public void Resolve_UnknownEncoding_NamesTheOptionAndTheEncoding()
    {
        var path = Write("notes.txt", "x");

        var error = Fails(Notes(encoding: "klingon-8"), ("notes", path));

        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain("klingon-8");
    }

    [Fact]
    public void Resolve_UnknownEncoding_FailsEvenWithoutAFile()
    {
        Fails(Notes(encoding: "klingon-8")).Message.ShouldContain("klingon-8");
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-16")]
    [InlineData("us-ascii")]
    [InlineData("iso-8859-1")]
    public void Resolve_KnownEncoding_IsAccepted(string encoding)
    {
        var path = Write("notes.txt", "x");

        ResolveFile(Notes(encoding: encoding), ("notes", path)).Path.ShouldBe(path);
    }

    // ---- Store -----------------------------------------------------------------------------------------------

    [Fact]
    public void Store_TextFile_IsStoredAsItsExactBytesWithTheTextEncoding()
    {
        // A byte-order mark, CRLF line ends, non-ASCII text and no final newline: all kept as they are.
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("line one\r\nlíne twö ✓\r\nlast")];
        var path = Write("notes.txt", bytes);
        var store = Store();
        var definition = Definition(Notes(), Count());

        var refs = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("notes", path))));

        var notes = refs["Notes"];
        notes.Encoding.ShouldBe("text:utf-8");
        notes.Type.ShouldBe(typeof(string).FullName);
        notes.Size.ShouldBe(bytes.Length);
        notes.Sha.ShouldBe(BlobStore.Hash(bytes));
        store.Blobs.Get(notes.Sha).ShouldBe(bytes);
        ArtifactCodec.Deserialize(store.Blobs.Get(notes.Sha), notes.Encoding, typeof(string)).ShouldBe("line one\r\nlíne twö ✓\r\nlast");
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Count"].Sha), refs["Count"].Encoding, typeof(int)).ShouldBe(3);
    }

    [Fact]
    public void Store_TextFileWithAnotherEncoding_NamesIt()
    {
        byte[] bytes = [0x63, 0x61, 0x66, 0xE9];
        var path = Write("latin.txt", bytes);
        var store = Store();
        var definition = Definition(Latin());

        var latin = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("latin", path))))["Latin"];

        latin.Encoding.ShouldBe("text:iso-8859-1");
        store.Blobs.Get(latin.Sha).ShouldBe(bytes);
        ArtifactCodec.Deserialize(store.Blobs.Get(latin.Sha), latin.Encoding, typeof(string)).ShouldBe("café");
    }

    [Fact]
    public void Store_StringPropertyWithoutAnEncodingInTheGraph_IsUtf8Text()
    {
        var path = Write("notes.txt", "plain");
        var store = Store();
        var definition = Definition(Notes(encoding: null));

        ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("notes", path))))["Notes"].Encoding.ShouldBe("text:utf-8");
    }

    [Fact]
    public void Store_BytesAndIncludedFile_AreStoredAsBytes()
    {
        var raw = Write("raw.bin", [0, 1, 2, 255, 254]);
        var archive = Write("archive.bin", [9, 8, 7]);
        var store = Store();
        var definition = Definition(Raw(), Archive());

        var refs = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("raw", raw), ("archive", archive))));

        refs["Raw"].Encoding.ShouldBe("bytes");
        refs["Raw"].Type.ShouldBe(typeof(byte[]).FullName);
        refs["Raw"].Size.ShouldBe(5);
        store.Blobs.Get(refs["Raw"].Sha).ShouldBe([0, 1, 2, 255, 254]);
        refs["Archive"].Encoding.ShouldBe("bytes");
        refs["Archive"].Type.ShouldBe(typeof(IncludedFile).FullName);
        refs["Archive"].Size.ShouldBe(3);
        store.Blobs.Get(refs["Archive"].Sha).ShouldBe([9, 8, 7]);
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Raw"].Sha), refs["Raw"].Encoding, typeof(byte[])).ShouldBe(new byte[] { 0, 1, 2, 255, 254 });
    }

    [Fact]
    public void Store_NoPath_StoresAnEmptyBlob()
    {
        var store = Store();
        var definition = Definition(Notes(), Raw(), Archive());

        var refs = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given()));

        refs["Notes"].Encoding.ShouldBe("text:utf-8");
        refs["Raw"].Encoding.ShouldBe("bytes");
        refs["Archive"].Encoding.ShouldBe("bytes");
        foreach (var reference in refs.Values)
        {
            reference.Size.ShouldBe(0);
            reference.Sha.ShouldBe(BlobStore.Hash([]));
            store.Blobs.Get(reference.Sha).ShouldBeEmpty();
            ReadThroughStream(store, reference.Sha).ShouldBeEmpty();
        }
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Notes"].Sha), refs["Notes"].Encoding, typeof(string)).ShouldBe("");
    }

    [Fact]
    public void Store_EmptyFile_StoresAnEmptyBlob()
    {
        var path = Write("empty.txt", []);
        var store = Store();
        var definition = Definition(Notes());

        var notes = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("notes", path))))["Notes"];

        notes.Size.ShouldBe(0);
        store.Blobs.Get(notes.Sha).ShouldBeEmpty();
    }

    [Fact]
    public void Store_ContentSurvivesTheFileBeingChangedAndDeleted()
    {
        var original = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("original content; ", 5000)));
        var path = Write("notes.txt", original);
        var store = Store();
        var definition = Definition(Notes(), Raw());
        var refs = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("notes", path), ("raw", path))));

        File.WriteAllText(path, "changed afterwards");
        ReadThroughStream(store, refs["Notes"].Sha).ShouldBe(original);
        File.Delete(path);

        ReadThroughStream(store, refs["Notes"].Sha).ShouldBe(original);
        ReadThroughStream(store, refs["Raw"].Sha).ShouldBe(original);
        store.Blobs.Get(refs["Notes"].Sha).ShouldBe(original);
    }

    [Fact]
    public void Store_EqualFiles_ShareOneBlob()
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("same bytes in two files\n", 200)));
        var first = Write("first.txt", content);
        var second = Write(Path.Combine("other", "second.bin"), content);
        var store = Store();
        var definition = Definition(Notes(), Raw());

        var refs = ParameterBinder.Store(store, definition, ParameterBinder.Resolve(definition, Given(("notes", first), ("raw", second))));

        refs["Notes"].Sha.ShouldBe(refs["Raw"].Sha);
        refs["Notes"].Encoding.ShouldNotBe(refs["Raw"].Encoding, "the encoding belongs to the reference, not to the blob");
        BlobFiles().ShouldHaveSingleItem();
    }

    [Fact]
    public void Store_SameFileStoredByTwoRuns_IsOneBlob()
    {
        var path = Write("notes.txt", "stored twice");
        var store = Store();
        var definition = Definition(Notes());
        var values = ParameterBinder.Resolve(definition, Given(("notes", path)));

        var first = ParameterBinder.Store(store, definition, values)["Notes"];
        var second = ParameterBinder.Store(store, definition, values)["Notes"];

        second.ShouldBe(first);
        BlobFiles().ShouldHaveSingleItem();
    }

    [Fact]
    public void Store_FileDeletedAfterResolve_FailsNamingTheOptionAndThePath()
    {
        var path = Write("notes.txt", "soon gone");
        var store = Store();
        var definition = Definition(Notes());
        var values = ParameterBinder.Resolve(definition, Given(("notes", path)));
        File.Delete(path);

        var error = Should.Throw<FlowException>(() => ParameterBinder.Store(store, definition, values));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--notes");
        error.Message.ShouldContain(path);
        error.Message.ShouldNotContain('\n');
    }
}

/// <summary>How stored included files decode: text in its named encoding, raw bytes, or a stream.</summary>
public sealed class IncludedFileCodecTests
{
    private static readonly byte[] s_utf8 = Encoding.UTF8.GetBytes("héllo ✓\n");
    private static readonly byte[] s_bom = [0xEF, 0xBB, 0xBF];

    private static string Json(byte[] bytes, string encoding)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ArtifactCodec.WriteJson(writer, bytes, encoding);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public void Utf8Text_DecodesToTheString()
    {
        ArtifactCodec.Deserialize(s_utf8, "text:utf-8", typeof(string)).ShouldBe("héllo ✓\n");
        ArtifactCodec.DecodeText(s_utf8, "text:utf-8").ShouldBe("héllo ✓\n");
    }

    [Fact]
    public void Latin1Text_DecodesToTheString()
    {
        byte[] bytes = [0x63, 0x61, 0x66, 0xE9, 0x20, 0xA3, 0x35];

        ArtifactCodec.Deserialize(bytes, "text:iso-8859-1", typeof(string)).ShouldBe("café £5");
    }

    [Fact]
    public void Text_DecodesToTheRawBytesForAByteArray()
    {
        byte[] withBom = [.. s_bom, .. s_utf8];

        ArtifactCodec.Deserialize(withBom, "text:utf-8", typeof(byte[])).ShouldBe(withBom);
        ArtifactCodec.Deserialize(new byte[] { 0xE9 }, "text:iso-8859-1", typeof(byte[])).ShouldBe(new byte[] { 0xE9 });
    }

    [Fact]
    public void Utf8ByteOrderMark_IsDropped()
    {
        byte[] withBom = [.. s_bom, .. s_utf8];

        var text = ArtifactCodec.Deserialize(withBom, "text:utf-8", typeof(string)).ShouldBeOfType<string>();

        text.ShouldBe("héllo ✓\n");
        text.ShouldNotContain('\uFEFF');
    }

    [Fact]
    public void Utf8ByteOrderMark_WinsOverTheNamedEncoding()
    {
        byte[] withBom = [.. s_bom, .. s_utf8];

        ArtifactCodec.Deserialize(withBom, "text:iso-8859-1", typeof(string)).ShouldBe("héllo ✓\n");
    }

    [Fact]
    public void EmptyText_IsTheEmptyString()
    {
        ArtifactCodec.Deserialize([], "text:utf-8", typeof(string)).ShouldBe("");
    }

    [Fact]
    public void WriteJson_WritesTheDecodedText()
    {
        var json = Json([.. s_bom, .. s_utf8], "text:utf-8");

        using var document = JsonDocument.Parse(json);
        document.RootElement.ValueKind.ShouldBe(JsonValueKind.String);
        document.RootElement.GetString().ShouldBe("héllo ✓\n");
    }

    [Fact]
    public void WriteJson_WritesLatin1TextDecoded()
    {
        using var document = JsonDocument.Parse(Json([0x63, 0x61, 0x66, 0xE9], "text:iso-8859-1"));

        document.RootElement.GetString().ShouldBe("café");
    }

    [Fact]
    public void IncludedFile_FromBytes_IsReadableAgainAndAgain()
    {
        byte[] bytes = [1, 2, 3, 0, 255];

        var file = ArtifactCodec.Deserialize(bytes, "bytes", typeof(IncludedFile)).ShouldBeOfType<IncludedFile>();

        file.Length.ShouldBe(5);
        file.ReadAllBytes().ShouldBe(bytes);
        using (var stream = file.OpenRead())
        {
            stream.CanRead.ShouldBeTrue();
            stream.ReadByte().ShouldBe(1);
        }
        file.ReadAllBytes().ShouldBe(bytes, "each OpenRead starts at the beginning");
    }

    [Fact]
    public void IncludedFile_FromText_ReadsTheText()
    {
        var file = ArtifactCodec.Deserialize(s_utf8, "text:utf-8", typeof(IncludedFile)).ShouldBeOfType<IncludedFile>();

        file.Length.ShouldBe(s_utf8.Length);
        file.ReadAllText().ShouldBe("héllo ✓\n");
    }

    [Fact]
    public void IncludedFile_Empty_HasNoContent()
    {
        IncludedFile.Empty.Length.ShouldBe(0);
        IncludedFile.Empty.Name.ShouldBeNull();
        IncludedFile.Empty.ReadAllBytes().ShouldBeEmpty();
        ArtifactCodec.Deserialize([], "bytes", typeof(IncludedFile)).ShouldBeOfType<IncludedFile>().ReadAllBytes().ShouldBeEmpty();
    }
}
