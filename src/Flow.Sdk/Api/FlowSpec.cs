using System.ComponentModel;

namespace Flow.Sdk;

/// <summary>
/// The base class of every flow: a <c>partial</c> class whose <see cref="StepAttribute">[Step]</see> methods form
/// a graph from <c>Start</c> to <c>End</c>, and whose <c>public partial</c> properties are artifacts.
/// </summary>
/// <remarks>
/// The graph is read from the source at build time by the generator that comes with the Flow.Sdk package: an
/// invalid graph is a compile error (<c>FLOW0xxx</c>). The generator also implements the artifact properties:
/// an artifact inherited from an earlier step is loaded from the datastore the first time it is read, and every
/// artifact set (or read and changed in place) is persisted when the step ends.
/// </remarks>
public abstract class FlowSpec
{
    private readonly List<string> _next = [];

    internal ArtifactScope Artifacts { get; set; } = ArtifactScope.Detached();

    internal IReadOnlyList<string> NextTargets => _next;

    internal string? NextForEach { get; private set; }

    internal int NextCalls { get; private set; }

    internal TaskPosition Position { get; set; } = TaskPosition.None;

    /// <summary>Gets the item of the innermost foreach this task is in (the value its typed parameter receives), or null outside a foreach.</summary>
    public object? Input => Position.Innermost?.Value;

    /// <summary>Gets this task's index among the items of the innermost foreach it is in.</summary>
    /// <exception cref="InvalidOperationException">The task is not inside a foreach.</exception>
    public int Index => Position.Innermost?.Index
        ?? throw new InvalidOperationException($"Step {Position.Step} is not inside a foreach, so it has no Index; use ForeachStack to see the nesting.");

    /// <summary>Gets every foreach this task is in, outermost first: step, index, count and item of each.</summary>
    public IReadOnlyList<ForeachFrame> ForeachStack => Position.ForeachStack;

    /// <summary>Gets the pass of a looping (self-targeting) step, from 0; 0 for every other step.</summary>
    public int Iteration => Position.Iteration;

    /// <summary>Continues the flow with one step.</summary>
    /// <param name="step">The next step, as a method group: <c>Next(Train)</c>.</param>
    protected void Next(Delegate step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Record(step.Method.Name);
    }

    /// <summary>Splits the flow into parallel branches, one per step; they meet again in a join step.</summary>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="more">Further branches.</param>
    protected void Next(Delegate first, Delegate second, params Delegate[] more)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        Record(first.Method.Name, second.Method.Name);
        foreach (var d in more)
        {
            _next.Add(d.Method.Name);
        }
    }

    /// <summary>Fans out over a collection artifact: one task of <paramref name="step"/> per item.</summary>
    /// <param name="step">The step that receives each item.</param>
    /// <param name="forEach">The collection artifact, as <c>nameof(Items)</c>.</param>
    protected void Next(Delegate step, string forEach)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentException.ThrowIfNullOrEmpty(forEach);
        Record(step.Method.Name);
        NextForEach = forEach;
    }

    /// <summary>
    /// In a join, passes on the artifacts of the inputs that the join has not set: each one that is equal in every
    /// input that has it is taken by reference (nothing is loaded); artifacts that differ between inputs are an
    /// error naming them, and then nothing is merged.
    /// </summary>
    /// <typeparam name="TFlow">The flow class.</typeparam>
    /// <param name="inputs">The join's inputs.</param>
    /// <param name="include">Merge only these artifacts (each must exist in some input).</param>
    /// <param name="exclude">Merge every artifact but these.</param>
    /// <exception cref="InvalidOperationException">Artifacts conflict, an included artifact is missing, or the step is not a join.</exception>
    protected void MergeArtifacts<TFlow>(Inputs<TFlow> inputs, IEnumerable<string>? include = null, IEnumerable<string>? exclude = null)
        where TFlow : FlowSpec
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (include is not null && exclude is not null)
        {
            throw new ArgumentException("MergeArtifacts takes include or exclude, not both.", nameof(exclude));
        }
        Artifacts.Merge([.. inputs.Select(i => (i.Position.Step, i.Artifacts))], include?.ToList(), exclude?.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Reads an artifact; used by the generated artifact properties.</summary>
    /// <typeparam name="T">The property type.</typeparam>
    /// <param name="name">The artifact name (the property name).</param>
    /// <returns>The value set in this step, or the value inherited from an earlier step, loaded on first read.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected T GetArtifact<T>(string name) => Artifacts.Get<T>(name);

    /// <summary>Sets an artifact; used by the generated artifact properties.</summary>
    /// <typeparam name="T">The property type.</typeparam>
    /// <param name="name">The artifact name (the property name).</param>
    /// <param name="value">The new value, persisted when the step ends.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void SetArtifact<T>(string name, T value) => Artifacts.Set(name, value);

    /// <summary>Sets the transition a caught failure takes: the step's one static successor.</summary>
    internal void Continue(IEnumerable<string> targets)
    {
        _next.Clear();
        _next.AddRange(targets);
        NextForEach = null;
        NextCalls = 1;
    }

    private void Record(params string[] targets)
    {
        NextCalls++;
        _next.Clear();
        _next.AddRange(targets);
        NextForEach = null;
    }
}
