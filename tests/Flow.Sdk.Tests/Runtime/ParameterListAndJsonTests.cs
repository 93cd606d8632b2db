using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>A JSON-configured parameter, as a user declares it.</summary>
public sealed record TrainingConfig(string Name, double Rate, List<int> Layers);

/// <summary>A flow with list parameters (split by a separator) and JSON parameters, with their defaults.</summary>
public sealed class ListAndJsonFlow : FlowSpec
{
    public List<int> Seeds { get; init; } = [7];

    public int[] Ids { get; init; } = [];

    public HashSet<string> Tags { get; init; } = ["default"];

    public IReadOnlyList<long> Offsets { get; init; } = [];

    public List<string> Names { get; init; } = [];

    public TrainingConfig Config { get; init; } = new("base", 0.1, [8]);

    public Dictionary<string, int> Weights { get; init; } = new() { ["x"] = 1 };

    public List<double> Rates { get; init; } = [0.5];
}

[Collection(EnvironmentCollection.Name)]
public sealed class ParameterListAndJsonTests : IDisposable
{
    private static readonly GraphParameter[] s_parameters =
    [
        new("Seeds", "seeds", "List<int>", "[7]", false, null, Separator: ","),
        new("Ids", "ids", "int[]", "[]", false, null, Separator: ","),
        new("Tags", "tags", "HashSet<string>", "[\"default\"]", false, null, Separator: ","),
        new("Offsets", "offsets", "IReadOnlyList<long>", "[]", false, null, Separator: ","),
        new("Names", "names", "List<string>", "[]", false, null, Separator: ";"),
        TestGraphs.Parameter("Config", "config", "TrainingConfig", "new(\"base\", 0.1, [8])"),
        TestGraphs.Parameter("Weights", "weights", "Dictionary<string, int>"),
        TestGraphs.Parameter("Rates", "rates", "List<double>", "[0.5]"),
    ];

    private readonly EnvironmentScope _environment = new EnvironmentScope().Clear([.. s_parameters.Select(p => p.EnvironmentVariable)]);
    private readonly TempDirectory _temp = new("flow-sdk-tests-");

    public void Dispose()
    {
        _environment.Dispose();
        _temp.Dispose();
    }

    private static FlowDefinition Definition()
    {
        var graph = new FlowGraph(nameof(ListAndJsonFlow), null, [TestGraphs.Linear("Start", "End"), TestGraphs.End()], s_parameters);
        return new FlowDefinition(
            TestGraphs.Json(graph),
            () => new ListAndJsonFlow(),
            _ => new ListAndJsonFlow(),
            new Dictionary<string, StepInvoker>(StringComparer.Ordinal),
            [.. s_parameters.Select(p =>
            {
                var property = typeof(ListAndJsonFlow).GetProperty(p.Name)!;
                return new ParameterDefinition(p.Name, property.PropertyType, property.GetValue);
            })]);
    }

    private static Dictionary<string, object?> Resolve(params (string Option, string? Value)[] given) =>
        ParameterBinder.Resolve(Definition(), given.ToDictionary(g => g.Option, g => g.Value, StringComparer.Ordinal));

    private static FlowException Fails(params (string Option, string? Value)[] given)
    {
        var error = Should.Throw<FlowException>(() => Resolve(given));
        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldNotContain('\n');
        return error;
    }

    private string WriteFile(string name, string text)
    {
        var path = _temp.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    // ---- Separator -------------------------------------------------------------------------------------------

    [Fact]
    public void Separator_SplitsIntoAList()
    {
        Resolve(("seeds", "1,2,3"))["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([1, 2, 3]);
    }

    [Fact]
    public void Separator_SplitsIntoAnArray()
    {
        Resolve(("ids", "4,5,6"))["Ids"].ShouldBeOfType<int[]>().ShouldBe([4, 5, 6]);
    }

    [Fact]
    public void Separator_SplitsIntoASet()
    {
        Resolve(("tags", "b,a,b"))["Tags"].ShouldBeOfType<HashSet<string>>().OrderBy(t => t, StringComparer.Ordinal).ShouldBe(["a", "b"]);
    }

    [Fact]
    public void Separator_SplitsIntoAReadOnlyListInterface()
    {
        var offsets = Resolve(("offsets", "10,20"))["Offsets"].ShouldBeAssignableTo<IReadOnlyList<long>>()!;

        offsets.ShouldBe([10L, 20L]);
    }

    [Fact]
    public void Separator_ItemsAreTrimmed()
    {
        Resolve(("seeds", " 1 , 2,3 "))["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([1, 2, 3]);
    }

    [Fact]
    public void Separator_SingleItem_IsAListOfOne()
    {
        Resolve(("seeds", "42"))["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([42]);
    }

    [Fact]
    public void Separator_OtherThanComma_SplitsOnlyOnIt()
    {
        Resolve(("names", "a,b;c"))["Names"].ShouldBeOfType<List<string>>().ShouldBe(["a,b", "c"]);
    }

    [Fact]
    public void Separator_ListParameterStillAcceptsAJsonArray()
    {
        Resolve(("seeds", "[1,2]"))["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([1, 2]);
        Resolve(("ids", "[ 8 ]"))["Ids"].ShouldBeOfType<int[]>().ShouldBe([8]);
    }

    [Fact]
    public void Separator_ListParameterAcceptsAFileHoldingAJsonArray()
    {
        var path = WriteFile("seeds.json", "[\n  3,\n  1,\n  2\n]\n");

        Resolve(("seeds", "@" + path))["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([3, 1, 2]);
    }

    [Theory]
    [InlineData("1,x,3", "'x'")]
    [InlineData("1,,3", "''")]
    [InlineData("1,2.5", "'2.5'")]
    public void Separator_BadItem_NamesTheParameterAndTheItem(string value, string item)
    {
        var error = Fails(("seeds", value));

        error.Message.ShouldContain("--seeds");
        error.Message.ShouldContain(item);
        error.Message.ShouldContain("whole number");
    }

    [Fact]
    public void Separator_BadItemFromTheEnvironment_NamesTheVariable()
    {
        _environment.Set("FLOW_RUN_SEEDS", "1,two");

        var error = Fails();

        error.Message.ShouldContain("--seeds");
        error.Message.ShouldContain("FLOW_RUN_SEEDS");
        error.Message.ShouldContain("'two'");
    }

    // ---- JSON ------------------------------------------------------------------------------------------------

    [Fact]
    public void Json_RecordFromInlineJson()
    {
        var config = Resolve(("config", """{"Name":"net","Rate":0.25,"Layers":[3,4]}"""))["Config"].ShouldBeOfType<TrainingConfig>();

        config.Name.ShouldBe("net");
        config.Rate.ShouldBe(0.25);
        config.Layers.ShouldBe([3, 4]);
    }

    [Fact]
    public void Json_RecordFromAFile()
    {
        var path = WriteFile("config.json", """
            {
              "Name": "from-file",
              "Rate": 1.5,
              "Layers": [ 16, 8, 4 ]
            }
            """);

        var config = Resolve(("config", "@" + path))["Config"].ShouldBeOfType<TrainingConfig>();

        config.Name.ShouldBe("from-file");
        config.Rate.ShouldBe(1.5);
        config.Layers.ShouldBe([16, 8, 4]);
    }

    [Fact]
    public void Json_FileWithAByteOrderMark_IsRead()
    {
        var path = _temp.Combine("bom.json");
        File.WriteAllText(path, """{"a": 1}""", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Resolve(("weights", "@" + path))["Weights"].ShouldBeOfType<Dictionary<string, int>>()["a"].ShouldBe(1);
    }

    [Fact]
    public void Json_DictionaryFromInlineJson()
    {
        var weights = Resolve(("weights", """{"b": 2, "a": 1}"""))["Weights"].ShouldBeOfType<Dictionary<string, int>>();

        weights.Count.ShouldBe(2);
        weights["a"].ShouldBe(1);
        weights["b"].ShouldBe(2);
    }

    [Fact]
    public void Json_DictionaryFromAFile()
    {
        var path = WriteFile("weights.json", "{ \"north\": 3,\n  \"south\": 4 }");

        var weights = Resolve(("weights", "@" + path))["Weights"].ShouldBeOfType<Dictionary<string, int>>();

        weights["north"].ShouldBe(3);
        weights["south"].ShouldBe(4);
    }

    [Fact]
    public void Json_ListFromInlineJsonAndFromAFile()
    {
        Resolve(("rates", "[0.1, 2, 3e-2]"))["Rates"].ShouldBeOfType<List<double>>().ShouldBe([0.1, 2, 0.03]);

        var path = WriteFile("rates.json", "[1.25]");
        Resolve(("rates", "@" + path))["Rates"].ShouldBeOfType<List<double>>().ShouldBe([1.25]);
    }

    [Fact]
    public void Json_MalformedInline_IsOneMessageWithTheOneBasedPosition()
    {
        // {"Name":"x","Rate":?}: the '?' is the 20th character of line 1.
        var error = Fails(("config", """{"Name":"x","Rate":?}"""));

        error.Message.ShouldContain("--config");
        error.Message.ShouldContain("line 1, position 20");
        error.Message.ShouldNotContain("LineNumber");
        error.Message.ShouldNotContain("BytePositionInLine");
        error.Message.ShouldNotContain("Path:");
    }

    [Fact]
    public void Json_MalformedFile_GivesTheLineAndPositionInTheFile()
    {
        // Line 3 is '  "Rate": oops,': the 'o' is its 11th character.
        var path = WriteFile("bad.json", "{\n  \"Name\": \"x\",\n  \"Rate\": oops,\n  \"Layers\": []\n}\n");

        var error = Fails(("config", "@" + path));

        error.Message.ShouldContain("--config");
        error.Message.ShouldContain("line 3, position 11");
        error.Message.ShouldNotContain("LineNumber");
        error.Message.ShouldNotContain("BytePositionInLine");
    }

    [Fact]
    public void Json_ValueOfTheWrongShape_IsOneMessageWithThePosition()
    {
        // A string where a number belongs: a serializer error, not a syntax error, still gives one line with the position.
        var error = Fails(("weights", """{"a": "one"}"""));

        error.Message.ShouldContain("--weights");
        error.Message.ShouldContain("line 1, position");
        error.Message.ShouldNotContain("LineNumber");
    }

    [Fact]
    public void Json_TruncatedArray_IsAnErrorForAListWithASeparatorToo()
    {
        var error = Fails(("seeds", "[1, 2"));

        error.Message.ShouldContain("--seeds");
        error.Message.ShouldContain("JSON");
        error.Message.ShouldContain("line 1, position");
    }

    [Fact]
    public void Json_MissingFile_NamesTheFile()
    {
        var missing = _temp.Combine("nowhere", "config.json");

        var error = Fails(("config", "@" + missing));

        error.Message.ShouldContain("--config");
        error.Message.ShouldContain(missing);
    }

    [Fact]
    public void Json_MalformedFromTheEnvironment_NamesTheVariableAndThePosition()
    {
        _environment.Set("FLOW_RUN_CONFIG", "{\"Name\": }");

        var error = Fails();

        error.Message.ShouldContain("--config");
        error.Message.ShouldContain("FLOW_RUN_CONFIG");
        error.Message.ShouldContain("line 1, position 10");
    }

    [Fact]
    public void Json_MissingFileFromTheEnvironment_NamesTheVariableAndTheFile()
    {
        var missing = _temp.Combine("absent.json");
        _environment.Set("FLOW_RUN_WEIGHTS", "@" + missing);

        var error = Fails();

        error.Message.ShouldContain("FLOW_RUN_WEIGHTS");
        error.Message.ShouldContain(missing);
    }

    // ---- Precedence ------------------------------------------------------------------------------------------

    [Fact]
    public void Precedence_NothingGiven_UsesTheDefaults()
    {
        var values = Resolve();

        values["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([7]);
        values["Config"].ShouldBeOfType<TrainingConfig>().Name.ShouldBe("base");
        values["Weights"].ShouldBeOfType<Dictionary<string, int>>()["x"].ShouldBe(1);
    }

    [Fact]
    public void Precedence_EnvironmentListWinsOverTheDefault()
    {
        _environment.Set("FLOW_RUN_SEEDS", "4,5");

        Resolve()["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([4, 5]);
    }

    [Fact]
    public void Precedence_CommandLineWinsOverTheEnvironment()
    {
        _environment.Set("FLOW_RUN_SEEDS", "4,5");
        _environment.Set("FLOW_RUN_CONFIG", """{"Name":"env","Rate":2,"Layers":[]}""");

        var values = Resolve(("seeds", "9"), ("config", """{"Name":"cli","Rate":3,"Layers":[1]}"""));

        values["Seeds"].ShouldBeOfType<List<int>>().ShouldBe([9]);
        values["Config"].ShouldBeOfType<TrainingConfig>().Name.ShouldBe("cli");
    }

    [Fact]
    public void Precedence_InvalidEnvironmentValue_IsIgnoredWhenTheCommandLineGivesOne()
    {
        _environment.Set("FLOW_RUN_CONFIG", "{ not json");

        Resolve(("config", """{"Name":"cli","Rate":3,"Layers":[]}"""))["Config"].ShouldBeOfType<TrainingConfig>().Name.ShouldBe("cli");
    }

    [Fact]
    public void Precedence_EnvironmentJsonAndFileReferencesAreReadLikeTheCommandLine()
    {
        var path = WriteFile("env-config.json", """{"Name":"env-file","Rate":0.5,"Layers":[2]}""");
        _environment.Set("FLOW_RUN_CONFIG", "@" + path);
        _environment.Set("FLOW_RUN_WEIGHTS", """{"k": 5}""");

        var values = Resolve();

        values["Config"].ShouldBeOfType<TrainingConfig>().Name.ShouldBe("env-file");
        values["Weights"].ShouldBeOfType<Dictionary<string, int>>()["k"].ShouldBe(5);
    }

    // ---- Stored as the run's parameters ----------------------------------------------------------------------

    [Fact]
    public void Store_ListAndJsonValuesReadBackFromTheDatastore()
    {
        var store = FlowDatastore.Open(new FileSystem(), _temp.Combine(".flow"), create: true);
        var definition = Definition();
        var values = ParameterBinder.Resolve(definition, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["seeds"] = "1,2,3",
            ["tags"] = "x,y",
            ["config"] = """{"Name":"stored","Rate":0.75,"Layers":[5]}""",
            ["weights"] = """{"w": 9}""",
        });

        var refs = ParameterBinder.Store(store, definition, values);

        T Read<T>(string name) => (T)ArtifactCodec.Deserialize(store.Blobs.Get(refs[name].Sha), refs[name].Encoding, typeof(T))!;
        Read<List<int>>("Seeds").ShouldBe([1, 2, 3]);
        Read<HashSet<string>>("Tags").OrderBy(t => t, StringComparer.Ordinal).ShouldBe(["x", "y"]);
        var config = Read<TrainingConfig>("Config");
        config.Name.ShouldBe("stored");
        config.Layers.ShouldBe([5]);
        Read<Dictionary<string, int>>("Weights")["w"].ShouldBe(9);
    }
}
