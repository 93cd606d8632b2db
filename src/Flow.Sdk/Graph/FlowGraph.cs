using System.Text.Json;

namespace Flow.Sdk.Graph;

/// <summary>
/// The static graph of a flow, as the generator read it from the source at build time. It is embedded in the
/// flow's assembly and in the code snapshot's manifest, so the graph is known without running user code.
/// </summary>
public sealed record FlowGraph(
    string Name,
    string? Description,
    IReadOnlyList<GraphStep> Steps,
    IReadOnlyList<GraphParameter> Parameters)
{
    private static JsonSerializerOptions Options => Datastore.DatastoreJson.Options;

    /// <summary>Gets a step by name, matched without regard to case.</summary>
    /// <param name="name">The step name.</param>
    /// <returns>The step, or null.</returns>
    public GraphStep? FindStep(string name) =>
        Steps.FirstOrDefault(s => s.Name == name) ?? Steps.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses the JSON form the generator embeds.</summary>
    /// <param name="json">The graph JSON.</param>
    /// <returns>The graph.</returns>
    public static FlowGraph Parse(string json) =>
        JsonSerializer.Deserialize<FlowGraph>(json, Options) ?? throw new JsonException("empty flow graph");

    /// <summary>Parses the JSON form the generator embeds.</summary>
    /// <param name="json">The graph JSON.</param>
    /// <returns>The graph.</returns>
    public static FlowGraph Parse(JsonElement json) =>
        json.Deserialize<FlowGraph>(Options) ?? throw new JsonException("empty flow graph");

    /// <summary>The steps in the order a reader follows them: depth-first from Start, End last.</summary>
    public IReadOnlyList<GraphStep> Ordered()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<GraphStep>();
        void Visit(string name)
        {
            if (name == "End" || !seen.Add(name) || FindStep(name) is not { } step)
            {
                return;
            }
            order.Add(step);
            foreach (var next in step.Next)
            {
                Visit(next);
            }
        }
        Visit("Start");
        order.AddRange(Steps.Where(s => s.Name != "End" && !seen.Contains(s.Name)));
        if (FindStep("End") is { } end)
        {
            order.Add(end);
        }
        return order;
    }
}

/// <summary>One step of a <see cref="FlowGraph"/>.</summary>
/// <param name="Name">The method name.</param>
/// <param name="Kind">linear, split, foreach, switch, join or end.</param>
/// <param name="Next">The steps <c>Next(...)</c> names, in call order.</param>
/// <param name="ForEach">The collection artifact a foreach fans out over.</param>
/// <param name="Description">The step's summary comment.</param>
/// <param name="File">The source file, relative to the project.</param>
/// <param name="Line">The 1-based line of the method.</param>
public sealed record GraphStep(
    string Name,
    string Kind,
    IReadOnlyList<string> Next,
    string? ForEach,
    string? Description,
    string? File,
    int Line);

/// <summary>A run parameter of a flow.</summary>
/// <param name="Name">The property name (the artifact name).</param>
/// <param name="Option">The command-line name, without dashes.</param>
/// <param name="Type">The C# type, as written in the source.</param>
/// <param name="Default">The initializer, as written in the source.</param>
/// <param name="Required">Whether a value must be given.</param>
/// <param name="Help">The help text.</param>
public sealed record GraphParameter(
    string Name,
    string Option,
    string Type,
    string? Default,
    bool Required,
    string? Help)
{
    /// <summary>Gets the environment variable that sets the parameter: <c>FLOW_RUN_</c> + the option in upper snake case.</summary>
    public string EnvironmentVariable => "FLOW_RUN_" + Option.Replace('-', '_').ToUpperInvariant();
}
