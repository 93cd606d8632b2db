using System.ComponentModel;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Hosting;

/// <summary>Invokes one step of a flow object. Generated; not for user code.</summary>
/// <param name="flow">The flow object the task runs on.</param>
/// <returns>A task that completes when the step returns.</returns>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask StepInvoker(FlowSpec flow);

/// <summary>Everything the runtime needs to know about one flow class. Generated; not for user code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FlowDefinition
{
    /// <summary>Initializes a new instance of the <see cref="FlowDefinition"/> class.</summary>
    /// <param name="graphJson">The static graph, as the generator wrote it.</param>
    /// <param name="createDefault">Creates a flow object with every parameter at its default.</param>
    /// <param name="create">Creates a flow object with the given parameter values.</param>
    /// <param name="steps">An invoker per step name.</param>
    /// <param name="parameters">The parameters, in declaration order.</param>
    public FlowDefinition(
        string graphJson,
        Func<FlowSpec> createDefault,
        Func<ParameterValues, FlowSpec> create,
        IReadOnlyDictionary<string, StepInvoker> steps,
        IReadOnlyList<ParameterDefinition> parameters)
    {
        GraphJson = graphJson;
        Graph = FlowGraph.Parse(graphJson);
        CreateDefault = createDefault;
        Create = create;
        Steps = steps;
        Parameters = parameters;
    }

    /// <summary>Gets the flow's name.</summary>
    public string Name => Graph.Name;

    /// <summary>Gets the static graph as JSON.</summary>
    public string GraphJson { get; }

    /// <summary>Gets the static graph.</summary>
    public FlowGraph Graph { get; }

    /// <summary>Gets the factory of a flow object with default parameters.</summary>
    public Func<FlowSpec> CreateDefault { get; }

    /// <summary>Gets the factory of a flow object with given parameters.</summary>
    public Func<ParameterValues, FlowSpec> Create { get; }

    /// <summary>Gets the step invokers by name.</summary>
    public IReadOnlyDictionary<string, StepInvoker> Steps { get; }

    /// <summary>Gets the parameters.</summary>
    public IReadOnlyList<ParameterDefinition> Parameters { get; }
}

/// <summary>A parameter's CLR type and how to read it from a flow object. Generated; not for user code.</summary>
/// <param name="name">The property name.</param>
/// <param name="type">The property type.</param>
/// <param name="getter">Reads the property.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ParameterDefinition(string name, Type type, Func<FlowSpec, object?> getter)
{
    /// <summary>Gets the property name.</summary>
    public string Name { get; } = name;

    /// <summary>Gets the property type.</summary>
    public Type Type { get; } = type;

    /// <summary>Gets the accessor that reads the property.</summary>
    public Func<FlowSpec, object?> Getter { get; } = getter;
}

/// <summary>Resolved parameter values, handed to the generated flow factory. Not for user code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ParameterValues
{
    private readonly IReadOnlyDictionary<string, object?> _values;

    internal ParameterValues(IReadOnlyDictionary<string, object?> values) => _values = values;

    /// <summary>Gets a value.</summary>
    /// <typeparam name="T">The parameter type.</typeparam>
    /// <param name="name">The property name.</param>
    /// <returns>The value.</returns>
    public T Get<T>(string name) => (T)_values[name]!;
}
