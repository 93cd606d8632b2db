using System.ComponentModel;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Hosting;

/// <summary>Invokes one step of a flow object. Generated; not for user code.</summary>
/// <param name="flow">The flow object the task runs on.</param>
/// <param name="arguments">The step's arguments: a foreach item, a join's inputs.</param>
/// <returns>A task that completes when the step returns.</returns>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask StepInvoker(FlowSpec flow, StepArguments arguments);

/// <summary>What a step method receives besides the flow object. Generated code calls it; not for user code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class StepArguments
{
    private readonly Func<Type, object?> _item;
    private readonly Func<IReadOnlyList<FlowSpec>> _inputs;

    internal StepArguments(Func<Type, object?> item, Func<IReadOnlyList<FlowSpec>> inputs)
    {
        _item = item;
        _inputs = inputs;
    }

    internal static StepArguments None { get; } = new(_ => null, () => []);

    /// <summary>Gets the foreach item of the task, loaded as <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The type of the step's item parameter.</typeparam>
    /// <returns>The item.</returns>
    public T Item<T>() => (T)_item(typeof(T))!;

    /// <summary>Gets a join's inputs.</summary>
    /// <typeparam name="TFlow">The flow class.</typeparam>
    /// <returns>The inputs, in split or index order.</returns>
    public Inputs<TFlow> Inputs<TFlow>()
        where TFlow : FlowSpec => new([.. _inputs().Cast<TFlow>()]);
}

/// <summary>How a foreach step fans out: the collection artifact and its element type. Generated; not for user code.</summary>
/// <param name="artifact">The collection artifact's name.</param>
/// <param name="elementType">The element type; each item is stored as a value of this type.</param>
/// <param name="collection">Reads the collection from the flow object.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ForEachDefinition(string artifact, Type elementType, Func<FlowSpec, object?> collection)
{
    /// <summary>Gets the collection artifact's name.</summary>
    public string Artifact { get; } = artifact;

    /// <summary>Gets the element type.</summary>
    public Type ElementType { get; } = elementType;

    /// <summary>Gets the accessor that reads the collection.</summary>
    public Func<FlowSpec, object?> Collection { get; } = collection;
}

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
    /// <param name="forEach">The foreach steps, by name.</param>
    public FlowDefinition(
        string graphJson,
        Func<FlowSpec> createDefault,
        Func<ParameterValues, FlowSpec> create,
        IReadOnlyDictionary<string, StepInvoker> steps,
        IReadOnlyList<ParameterDefinition> parameters,
        IReadOnlyDictionary<string, ForEachDefinition>? forEach = null)
    {
        ForEach = forEach ?? new Dictionary<string, ForEachDefinition>(StringComparer.Ordinal);
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

    /// <summary>Gets the foreach steps' fan-out definitions, by step name.</summary>
    public IReadOnlyDictionary<string, ForEachDefinition> ForEach { get; }
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
