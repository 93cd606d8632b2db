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
    /// <summary>Gets a step by name, matched without regard to case.</summary>
    /// <param name="name">The step name.</param>
    /// <returns>The step, or null.</returns>
    public GraphStep? FindStep(string name)
    {
        // A loop, not LINQ: the scheduler asks for every task it dispatches.
        GraphStep? folded = null;
        foreach (var step in Steps)
        {
            if (step.Name == name)
            {
                return step;
            }
            if (folded is null && string.Equals(step.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                folded = step;
            }
        }
        return folded;
    }

    /// <summary>Parses the JSON form the generator embeds.</summary>
    /// <param name="json">The graph JSON.</param>
    /// <returns>The graph.</returns>
    public static FlowGraph Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Parse(doc.RootElement);
    }

    /// <summary>Parses the JSON form the generator embeds.</summary>
    /// <param name="json">The graph JSON.</param>
    /// <returns>The graph.</returns>
    /// <remarks>Read by hand rather than with the serializer: every process of a run parses its graph at start-up.</remarks>
    public static FlowGraph Parse(JsonElement json)
    {
        try
        {
            return new FlowGraph(
                Text(json, "name") ?? throw new JsonException("a flow graph needs a name"),
                Text(json, "description"),
                Map(Items(json, "steps"), s => new GraphStep(
                    Text(s, "name") ?? throw new JsonException("a step needs a name"),
                    Text(s, "kind") ?? "linear",
                    Map(Items(s, "next"), n => n.GetString() ?? string.Empty),
                    Text(s, "forEach"),
                    Text(s, "description"),
                    Text(s, "file"),
                    s.TryGetProperty("line", out var line) && line.ValueKind == JsonValueKind.Number ? line.GetInt32() : 0,
                    s.TryGetProperty("join", out var join) && join.ValueKind == JsonValueKind.True,
                    Text(s, "matchingJoin"),
                    s.TryGetProperty("retry", out var retry) && retry.ValueKind == JsonValueKind.Number ? retry.GetInt32() : null,
                    s.TryGetProperty("catch", out var caught) && caught.ValueKind == JsonValueKind.String ? caught.GetString() : null,
                    s.TryGetProperty("timeout", out var timeout) && timeout.ValueKind == JsonValueKind.Number ? timeout.GetInt32() : 0,
                    s.TryGetProperty("environment", out var environment) && environment.ValueKind == JsonValueKind.Object
                        ? TextProperties(environment)
                        : null,
                    s.TryGetProperty("card", out var card) && card.ValueKind == JsonValueKind.Object
                        ? new GraphCard(Text(card, "title"), !card.TryGetProperty("artifacts", out var listed) || listed.ValueKind != JsonValueKind.False)
                        : null,
                    Text(s, "code"),
                    s.TryGetProperty("slurm", out var slurm) && slurm.ValueKind == JsonValueKind.Object
                        ? new GraphSlurm(Text(slurm, "partition"), Text(slurm, "time"), Text(slurm, "account"))
                        : null,
                    s.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Object
                        ? new GraphResources(Number(resources, "cpu"), Number(resources, "memoryMb"), Number(resources, "gpu"))
                        : null,
                    s.TryGetProperty("local", out var local) && local.ValueKind == JsonValueKind.True)),
                Map(Items(json, "parameters"), p => new GraphParameter(
                    Text(p, "name") ?? throw new JsonException("a parameter needs a name"),
                    Text(p, "option") ?? throw new JsonException("a parameter needs an option"),
                    Text(p, "type") ?? "string",
                    Text(p, "default"),
                    p.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.True,
                    Text(p, "help"),
                    p.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.True,
                    Text(p, "separator"),
                    Text(p, "encoding"),
                    p.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array ? Map(values.EnumerateArray(), v => v.GetString() ?? string.Empty) : null)));
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("malformed flow graph: " + e.Message, e);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : 0;

    /// <summary>
    /// A list of what <paramref name="map"/> makes of each item: a loop rather than LINQ, whose code over JSON
    /// elements (a struct) is compiled when a process starts instead of ahead of time (docs/performance.md).
    /// </summary>
    internal static List<T> Map<T>(IEnumerable<JsonElement> items, Func<JsonElement, T> map)
        where T : class
    {
        var list = new List<T>();
        foreach (var item in items)
        {
            list.Add(map(item));
        }
        return list;
    }

    /// <summary>An object's properties as texts by name (a loop, for the reason given at <see cref="Map"/>).</summary>
    internal static Dictionary<string, string> TextProperties(JsonElement json)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject())
        {
            texts.Add(property.Name, property.Value.GetString() ?? string.Empty);
        }
        return texts;
    }

    private static IEnumerable<JsonElement> Items(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : [];

    /// <summary>
    /// How deeply each step is nested in splits and foreach: 0 for Start and End, one more inside each open split.
    /// </summary>
    /// <returns>The depth of every step reached from Start.</returns>
    public IReadOnlyDictionary<string, int> Depths()
    {
        var depths = new Dictionary<string, int>(StringComparer.Ordinal);
        var queue = new Queue<(string Step, int Depth)>();
        queue.Enqueue(("Start", 0));
        while (queue.Count > 0)
        {
            var (name, depth) = queue.Dequeue();
            if (depths.ContainsKey(name) || FindStep(name) is not { } step)
            {
                continue;
            }
            var own = step.IsJoin ? Math.Max(0, depth - 1) : depth;
            depths[name] = own;
            foreach (var next in step.Next)
            {
                queue.Enqueue((next, step.Kind is "split" or "foreach" ? own + 1 : own));
            }
        }
        return depths;
    }

    /// <summary>
    /// The steps in the order a reader follows them: a topological order from Start in which each branch of a split
    /// is listed whole, in split order, before the join where the branches meet; End last.
    /// </summary>
    /// <returns>The steps.</returns>
    public IReadOnlyList<GraphStep> Ordered()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var postOrder = new List<GraphStep>();
        void Visit(GraphStep step)
        {
            if (!seen.Add(step.Name))
            {
                return;
            }
            // Children in reverse so that, reversed at the end, branches come out in split order.
            for (var i = step.Next.Count - 1; i >= 0; i--)
            {
                if (FindStep(step.Next[i]) is { } next)
                {
                    Visit(next);
                }
            }
            postOrder.Add(step);
        }
        if (FindStep("Start") is { } start)
        {
            Visit(start);
        }
        postOrder.Reverse();
        var order = postOrder.Where(s => s.Name != "End").ToList();
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
/// <param name="Kind">How the step continues: linear, split, foreach, switch or end.</param>
/// <param name="Next">The steps <c>Next(...)</c> names, in call order.</param>
/// <param name="ForEach">The collection artifact a foreach fans out over.</param>
/// <param name="Description">The step's summary comment.</param>
/// <param name="File">The source file, relative to the project.</param>
/// <param name="Line">The 1-based line of the method.</param>
/// <param name="IsJoin">Whether the step is a join (it takes <c>Inputs</c>).</param>
/// <param name="MatchingJoin">For a split or foreach, the join where its branches meet.</param>
/// <param name="Retry">The extra attempts <c>[Retry]</c> gives it, or null without one.</param>
/// <param name="Catch">With <c>[Catch]</c>: the artifact that receives a failure ("" for none); null without.</param>
/// <param name="TimeoutSeconds">With <c>[Timeout]</c>: the seconds a task may run; 0 without.</param>
/// <param name="Environment">With <c>[Environment]</c>: the variables its tasks get (each in its own process).</param>
/// <param name="Card">With <c>[Card]</c>: the card each of its tasks renders; null without.</param>
/// <param name="Code">The fingerprint of the step's code and what it calls (the snapshot's graph only; docs/resume.md).</param>
/// <param name="Slurm">With <c>[Slurm]</c> on the step or its flow: where its tasks run as jobs; null without.</param>
/// <param name="Resources">With <c>[Resources]</c>: what one task needs; null without.</param>
/// <param name="Local">With <c>[Local]</c>: the step stays on the machine that runs the flow.</param>
public sealed record GraphStep(
    string Name,
    string Kind,
    IReadOnlyList<string> Next,
    string? ForEach,
    string? Description,
    string? File,
    int Line,
    [property: System.Text.Json.Serialization.JsonPropertyName("join")] bool IsJoin = false,
    string? MatchingJoin = null,
    int? Retry = null,
    string? Catch = null,
    [property: System.Text.Json.Serialization.JsonPropertyName("timeout")] int TimeoutSeconds = 0,
    IReadOnlyDictionary<string, string>? Environment = null,
    GraphCard? Card = null,
    string? Code = null,
    GraphSlurm? Slurm = null,
    GraphResources? Resources = null,
    bool Local = false);

/// <summary>A step's <c>[Slurm]</c> (or its flow's): the job's partition, time limit and account, each optional.</summary>
/// <param name="Partition">The partition, or null for the cluster's default.</param>
/// <param name="Time">The time limit as Slurm writes it, or null.</param>
/// <param name="Account">The account, or null.</param>
public sealed record GraphSlurm(string? Partition, string? Time, string? Account);

/// <summary>A step's <c>[Resources]</c>: cores, memory (MiB) and GPUs per task; 0 for not given.</summary>
/// <param name="Cpu">Cores.</param>
/// <param name="MemoryMb">Memory in MiB.</param>
/// <param name="Gpu">GPUs.</param>
public sealed record GraphResources(int Cpu, int MemoryMb, int Gpu);

/// <summary>A step's <c>[Card]</c>.</summary>
/// <param name="Title">The card's title, or null for the step's name.</param>
/// <param name="Artifacts">Whether the card lists the task's artifacts after its components.</param>
public sealed record GraphCard(string? Title, bool Artifacts);

/// <summary>A run parameter of a flow.</summary>
/// <param name="Name">The property name (the artifact name).</param>
/// <param name="Option">The command-line name, without dashes.</param>
/// <param name="Type">The C# type, as written in the source.</param>
/// <param name="Default">The initializer, as written in the source.</param>
/// <param name="Required">Whether a value must be given.</param>
/// <param name="Help">The help text.</param>
/// <param name="IsFile">Whether it is an included file (<c>[IncludeFile]</c>): the option names a file whose content is stored.</param>
/// <param name="Separator">For a list parameter, the separator of its items on the command line.</param>
/// <param name="Encoding">For an included text file, its encoding.</param>
/// <param name="Values">For an enum, its member names; null otherwise.</param>
public sealed record GraphParameter(
    string Name,
    string Option,
    string Type,
    string? Default,
    bool Required,
    string? Help,
    [property: System.Text.Json.Serialization.JsonPropertyName("file")] bool IsFile = false,
    string? Separator = null,
    string? Encoding = null,
    IReadOnlyList<string>? Values = null)
{
    /// <summary>Gets the environment variable that sets the parameter: <c>FLOW_RUN_</c> + the option in upper snake case.</summary>
    public string EnvironmentVariable => "FLOW_RUN_" + Option.Replace('-', '_').ToUpperInvariant();
}
