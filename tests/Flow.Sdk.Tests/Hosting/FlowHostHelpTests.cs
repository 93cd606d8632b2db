using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Tests.Hosting;

/// <summary><c>run --help</c> names each parameter's type as a user types its value, not as the CLR names it.</summary>
public sealed class FlowHostHelpTests
{
    private static GraphParameter Parameter(string type, string? separator = null, IReadOnlyList<string>? values = null, string? @default = null) =>
        new("X", "x", type, @default, false, null, Separator: separator, Values: values);

    [Theory]
    [InlineData("System.Collections.Generic.List<int>", ",", "int list (items separated by ',', or a JSON array)")]
    [InlineData("string[]", ";", "string list (items separated by ';', or a JSON array)")]
    [InlineData("System.Collections.Generic.IReadOnlyList<double>", null, "double list (a JSON array)")]
    [InlineData("bool", null, "switch (--x alone is true; or --x true|false)")]
    [InlineData("bool?", null, "switch (--x alone is true; or --x true|false)")]
    [InlineData("System.DateTime", null, "DateTime (ISO 8601, such as 2026-01-31T12:00:00Z)")]
    [InlineData("System.DateOnly?", null, "DateOnly (such as 2026-01-31)")]
    [InlineData("int", null, "int")]
    [InlineData("string?", null, "string")]
    [InlineData("Lab.Models.TrainConfig?", null, "TrainConfig (as JSON)")]
    public void TypeText_IsWhatAUserTypes(string type, string? separator, string expected) =>
        FlowHostHelp.TypeText(Parameter(type, separator)).ShouldBe(expected);

    [Fact]
    public void TypeText_OfAnEnum_ListsItsNames() =>
        FlowHostHelp.TypeText(Parameter("Lab.Shade", values: ["Light", "Dark"])).ShouldBe("Shade (Light|Dark)");

    [Fact]
    public void RunHelp_SaysASwitchWithoutInitializer_DefaultsToFalse()
    {
        var graph = new FlowGraph("F", null, [], [new GraphParameter("Verbose", "verbose", "bool", null, false, "Say more")]);

        FlowHostHelp.RunHelp(graph).ShouldContain("--verbose switch (--verbose alone is true; or --verbose true|false)  (default false; env FLOW_RUN_VERBOSE)  Say more");
    }
}
