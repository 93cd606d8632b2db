using System.Globalization;
using System.IO.Abstractions.TestingHelpers;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Runtime;

public enum Speed
{
    Slow,
    Fast,
}

/// <summary>A flow with init-only parameters and their defaults, as a user writes them.</summary>
public sealed class ParameterFlow : FlowSpec
{
    public int Count { get; init; } = 3;

    public string Label { get; init; } = "plain";

    public bool Loud { get; init; }

    public Speed Speed { get; init; } = Speed.Slow;

    public double LearningRate { get; init; } = 0.25;

    public List<int> Sizes { get; init; } = [1, 2];

    public string? Token { get; init; }
}

[Collection(EnvironmentCollection.Name)]
public sealed class ParameterBinderTests : IDisposable
{
    private static readonly GraphParameter[] s_parameters =
    [
        TestGraphs.Parameter("Count", "count", "int", "3"),
        TestGraphs.Parameter("Label", "label", "string", "\"plain\""),
        TestGraphs.Parameter("Loud", "loud", "bool"),
        TestGraphs.Parameter("Speed", "speed", "Speed", "Speed.Slow"),
        TestGraphs.Parameter("LearningRate", "learning-rate", "double", "0.25"),
        TestGraphs.Parameter("Sizes", "sizes", "List<int>", "[1, 2]"),
    ];

    private static readonly GraphParameter s_token = TestGraphs.Parameter("Token", "token", "string", required: true);

    private readonly EnvironmentScope _environment = new EnvironmentScope().Clear(
        [.. s_parameters.Append(s_token).Select(p => p.EnvironmentVariable)]);

    public void Dispose() => _environment.Dispose();

    private static FlowDefinition Definition(params GraphParameter[] parameters)
    {
        var graph = new FlowGraph("ParameterFlow", null, [TestGraphs.Linear("Start", "End"), TestGraphs.End()], parameters);
        return new FlowDefinition(
            TestGraphs.Json(graph),
            () => new ParameterFlow(),
            _ => new ParameterFlow(),
            new Dictionary<string, StepInvoker>(StringComparer.Ordinal),
            [.. parameters.Select(p =>
            {
                var property = typeof(ParameterFlow).GetProperty(p.Name)!;
                return new ParameterDefinition(p.Name, property.PropertyType, property.GetValue);
            })]);
    }

    private static Dictionary<string, object?> Resolve(params (string Option, string? Value)[] given) =>
        ParameterBinder.Resolve(Definition(s_parameters), given.ToDictionary(g => g.Option, g => g.Value, StringComparer.Ordinal));

    [Fact]
    public void Resolve_NothingGiven_UsesTheDefaults()
    {
        var values = Resolve();

        values["Count"].ShouldBe(3);
        values["Label"].ShouldBe("plain");
        values["Loud"].ShouldBe(false);
        values["Speed"].ShouldBe(Speed.Slow);
        values["LearningRate"].ShouldBe(0.25);
        values["Sizes"].ShouldBeOfType<List<int>>().ShouldBe([1, 2]);
    }

    [Fact]
    public void Resolve_EnvironmentVariable_WinsOverTheDefault()
    {
        _environment.Set("FLOW_RUN_COUNT", "5");

        Resolve()["Count"].ShouldBe(5);
    }

    [Fact]
    public void Resolve_CommandLineValue_WinsOverTheEnvironmentVariable()
    {
        _environment.Set("FLOW_RUN_COUNT", "5");

        Resolve(("count", "7"))["Count"].ShouldBe(7);
    }

    [Fact]
    public void Resolve_KebabCaseOption_ReadsTheUpperSnakeCaseVariable()
    {
        s_parameters.Single(p => p.Name == "LearningRate").EnvironmentVariable.ShouldBe("FLOW_RUN_LEARNING_RATE");
        _environment.Set("FLOW_RUN_LEARNING_RATE", "0.125");

        Resolve()["LearningRate"].ShouldBe(0.125);
    }

    [Fact]
    public void Resolve_ValueOfTheWrongType_NamesParameterValueAndExpectedType()
    {
        var error = Should.Throw<FlowException>(() => Resolve(("count", "three")));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--count");
        error.Message.ShouldContain("'three'");
        error.Message.ShouldContain("int");
        error.Message.ShouldContain("whole number");
    }

    [Fact]
    public void Resolve_ValueOfTheWrongTypeFromTheEnvironment_NamesTheVariable()
    {
        _environment.Set("FLOW_RUN_COUNT", "lots");

        var error = Should.Throw<FlowException>(() => Resolve());

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("FLOW_RUN_COUNT");
        error.Message.ShouldContain("'lots'");
    }

    [Fact]
    public void Resolve_UnknownOption_NamesTheKnownOnes()
    {
        var error = Should.Throw<FlowException>(() => Resolve(("colour", "red")));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--colour");
        foreach (var p in s_parameters)
        {
            error.Message.ShouldContain("--" + p.Option);
        }
    }

    [Fact]
    public void Resolve_OptionForAFlowWithoutParameters_SaysItHasNone()
    {
        var error = Should.Throw<FlowException>(() => ParameterBinder.Resolve(Definition(), new Dictionary<string, string?> { ["count"] = "1" }));

        error.Message.ShouldContain("--count");
        error.Message.ShouldContain("no parameters");
    }

    [Fact]
    public void Resolve_RequiredParameterMissing_NamesOptionAndVariable()
    {
        var error = Should.Throw<FlowException>(() => ParameterBinder.Resolve(Definition(s_token), new Dictionary<string, string?>()));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--token");
        error.Message.ShouldContain("FLOW_RUN_TOKEN");
    }

    [Fact]
    public void Resolve_RequiredParameterFromTheEnvironment_IsAccepted()
    {
        _environment.Set("FLOW_RUN_TOKEN", "secret");

        ParameterBinder.Resolve(Definition(s_token), new Dictionary<string, string?>())["Token"].ShouldBe("secret");
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("Fast")]
    [InlineData("FAST")]
    public void Resolve_Enum_IsParsedIgnoringCase(string value)
    {
        Resolve(("speed", value))["Speed"].ShouldBe(Speed.Fast);
    }

    [Theory]
    [InlineData("medium")]
    [InlineData("7")]
    [InlineData("")]
    public void Resolve_EnumValueNotDefined_ListsTheNames(string value)
    {
        var error = Should.Throw<FlowException>(() => Resolve(("speed", value)));

        error.Message.ShouldContain("--speed");
        error.Message.ShouldContain("Slow, Fast");
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("False", false)]
    [InlineData(null, true)]
    public void Resolve_Bool_IsParsedAndTrueWhenGivenBare(string? value, bool expected)
    {
        Resolve(("loud", value))["Loud"].ShouldBe(expected);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    public void Resolve_BoolNotTrueOrFalse_IsAnError(string value)
    {
        var error = Should.Throw<FlowException>(() => Resolve(("loud", value)));

        error.Message.ShouldContain("--loud");
        error.Message.ShouldContain("true or false");
    }

    [Fact]
    public void Resolve_NonBoolParameterGivenBare_NeedsAValue()
    {
        var error = Should.Throw<FlowException>(() => Resolve(("count", null)));

        error.Message.ShouldContain("--count");
        error.Message.ShouldContain("needs a value");
    }

    [Fact]
    public void Resolve_Double_UsesTheInvariantCultureWhateverTheCurrentOne()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Resolve(("learning-rate", "0.5"))["LearningRate"].ShouldBe(0.5);
            Should.Throw<FlowException>(() => Resolve(("learning-rate", "0,5"))).Message.ShouldContain("'0,5'");
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Resolve_CollectionParameter_IsParsedAsJson()
    {
        Resolve(("sizes", "[4, 5, 6]"))["Sizes"].ShouldBeOfType<List<int>>().ShouldBe([4, 5, 6]);
    }

    [Fact]
    public void Resolve_CollectionParameterWithInvalidJson_IsAnError()
    {
        var error = Should.Throw<FlowException>(() => Resolve(("sizes", "[4, five]")));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--sizes");
        error.Message.ShouldContain("JSON");
    }

    [Fact]
    public void Store_WritesEachValueAsABlobThatReadsBack()
    {
        var store = FlowDatastore.Open(new MockFileSystem(), "/store/.flow", create: true);
        var definition = Definition(s_parameters);
        var values = Resolve(("count", "9"), ("label", "x"), ("sizes", "[7]"));

        var refs = ParameterBinder.Store(store, definition, values);

        refs.Keys.ShouldBe(s_parameters.Select(p => p.Name), ignoreOrder: true);
        refs["Count"].Type.ShouldBe(typeof(int).FullName);
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Count"].Sha), refs["Count"].Encoding, typeof(int)).ShouldBe(9);
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Label"].Sha), refs["Label"].Encoding, typeof(string)).ShouldBe("x");
        ArtifactCodec.Deserialize(store.Blobs.Get(refs["Sizes"].Sha), refs["Sizes"].Encoding, typeof(List<int>)).ShouldBeOfType<List<int>>().ShouldBe([7]);
    }
}
