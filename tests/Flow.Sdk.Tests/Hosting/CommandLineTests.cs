using Flow.Sdk.Hosting;

namespace Flow.Sdk.Tests.Hosting;

public sealed class CommandLineTests
{
    private static readonly string[] s_withValue = ["flow", "tag", "max-workers", "datastore"];
    private static readonly string[] s_flags = ["verbose", "help", "h"];

    private static CommandLine Parse(params string[] args) => CommandLine.Parse(args, s_withValue, s_flags);

    private static CommandLine ParseRun(string[] args, params string[] boolParameters) =>
        CommandLine.Parse(args, s_withValue, s_flags, allowOthers: true, flagOthers: boolParameters.ToHashSet(StringComparer.Ordinal));

    [Fact]
    public void Parse_NameSpaceValue_ReadsTheValue()
    {
        Parse("--flow", "Train").Value("flow").ShouldBe("Train");
    }

    [Fact]
    public void Parse_NameEqualsValue_ReadsTheValue()
    {
        var options = Parse("--flow=Train", "--datastore=/data/x=y");

        options.Value("flow").ShouldBe("Train");
        options.Value("datastore").ShouldBe("/data/x=y");
    }

    [Fact]
    public void Parse_EmptyInlineValue_IsAnEmptyValue()
    {
        Parse("--tag=").Values("tag").ShouldBe([string.Empty]);
    }

    [Fact]
    public void Parse_RepeatedTag_KeepsEveryValueInOrder()
    {
        var options = Parse("--tag", "a", "--tag=b", "--tag", "c");

        options.Values("tag").ShouldBe(["a", "b", "c"]);
        options.Value("tag").ShouldBe("c");
    }

    [Fact]
    public void Parse_OptionNotGiven_HasNoValue()
    {
        var options = Parse("--verbose");

        options.Value("flow").ShouldBeNull();
        options.Values("tag").ShouldBeEmpty();
    }

    [Fact]
    public void Parse_BareFlags_AreSet()
    {
        var options = Parse("--verbose", "-h");

        options.Has("verbose").ShouldBeTrue();
        options.Has("h").ShouldBeTrue();
        options.Has("help").ShouldBeFalse();
    }

    [Fact]
    public void Parse_FlagBeforeOption_DoesNotTakeAValue()
    {
        var options = Parse("--verbose", "--flow", "Train");

        options.Has("verbose").ShouldBeTrue();
        options.Value("flow").ShouldBe("Train");
    }

    [Fact]
    public void Parse_UnknownOption_IsRejectedAsUsageError()
    {
        var error = Should.Throw<FlowException>(() => Parse("--colour", "red"));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--colour");
    }

    [Fact]
    public void Parse_UnknownOptionWithAllowOthers_IsAParameter()
    {
        var options = ParseRun(["--count", "5", "--name=x", "--flow", "Train"]);

        options.Others.ShouldBe(new Dictionary<string, string?> { ["count"] = "5", ["name"] = "x" });
        options.Value("flow").ShouldBe("Train");
    }

    [Fact]
    public void Parse_ParameterWithoutValueAtTheEnd_IsNull()
    {
        var options = ParseRun(["--count"]);

        options.Others.ShouldContainKey("count");
        options.Others["count"].ShouldBeNull();
    }

    [Fact]
    public void Parse_ParameterValueStartingWithOneDash_IsTakenAsTheValue()
    {
        ParseRun(["--offset", "-5"]).Others["offset"].ShouldBe("-5");
    }

    [Fact]
    public void Parse_BoolParameterGivenBare_DoesNotSwallowTheNextToken()
    {
        var options = ParseRun(["--fast", "-h", "--count", "3"], "fast");

        options.Others["fast"].ShouldBeNull();
        options.Has("h").ShouldBeTrue();
        options.Others["count"].ShouldBe("3");
    }

    [Fact]
    public void Parse_BoolParameterGivenBareBeforeAnArgument_LeavesTheArgumentUnparsed()
    {
        Should.Throw<FlowException>(() => ParseRun(["--fast", "yes"], "fast")).Message.ShouldContain("'yes'");
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("False")]
    public void Parse_BoolParameterFollowedByTrueOrFalse_TakesIt(string value)
    {
        var options = ParseRun(["--fast", value, "--count", "3"], "fast");

        options.Others["fast"].ShouldBe(value);
        options.Others["count"].ShouldBe("3");
    }

    [Fact]
    public void Parse_ParameterTwice_IsAnError()
    {
        var error = Should.Throw<FlowException>(() => ParseRun(["--count", "1", "--count=2"]));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--count");
        error.Message.ShouldContain("twice");
    }

    [Fact]
    public void Parse_BuiltInOptionWithoutValue_IsAnError()
    {
        Should.Throw<FlowException>(() => Parse("--flow")).Message.ShouldContain("--flow");
        Should.Throw<FlowException>(() => Parse("--flow", "--verbose")).Message.ShouldContain("needs a value");
    }

    [Theory]
    [InlineData("Train")]
    [InlineData("-")]
    [InlineData("--")]
    public void Parse_PositionalArgument_IsRejected(string arg)
    {
        var error = Should.Throw<FlowException>(() => Parse("--verbose", arg));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain($"'{arg}'");
    }

    [Fact]
    public void Int_NotGiven_IsTheFallback()
    {
        Parse().Int("max-workers", 16).ShouldBe(16);
    }

    [Fact]
    public void Int_PositiveNumber_IsRead()
    {
        Parse("--max-workers", "4").Int("max-workers", 16).ShouldBe(4);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("two")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public void Int_NonPositiveOrNonNumericMaxWorkers_IsAnError(string value)
    {
        var options = Parse("--max-workers", value);

        var error = Should.Throw<FlowException>(() => options.Int("max-workers", 16));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("--max-workers");
        error.Message.ShouldContain($"'{value}'");
    }

    [Theory]
    [InlineData(new[] { "run", "--flow", "Train" }, "Train")]
    [InlineData(new[] { "--count", "3", "--flow=Train" }, "Train")]
    [InlineData(new[] { "--count", "3" }, null)]
    [InlineData(new[] { "--flow" }, null)]
    public void PeekValue_FindsTheOptionAnywhere(string[] args, string? expected)
    {
        CommandLine.PeekValue(args, "flow").ShouldBe(expected);
    }
}
