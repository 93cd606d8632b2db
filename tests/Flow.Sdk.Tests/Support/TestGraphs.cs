using System.Text.Json;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Tests.Support;

/// <summary>Builds the graph JSON the generator would embed, for flow definitions written by hand.</summary>
internal static class TestGraphs
{
    private static readonly JsonSerializerOptions s_options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static GraphStep Linear(string name, string next) => new(name, "linear", [next], null, null, null, 1);

    public static GraphStep End() => new("End", "end", [], null, null, null, 1);

    public static GraphParameter Parameter(string name, string option, string type, string? defaultValue = null, bool required = false) =>
        new(name, option, type, defaultValue, required, null);

    public static string Json(FlowGraph graph) => JsonSerializer.Serialize(graph, s_options);
}
