using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Flow.Build.Generator;

/// <summary>An immutable array with value equality, so pipeline models cache between edits.</summary>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T>
    where T : IEquatable<T>
{
    private readonly ImmutableArray<T> _items;

    public EquatableArray(IEnumerable<T> items) => _items = items.ToImmutableArray();

    public int Count => _items.IsDefault ? 0 : _items.Length;

    public T this[int index] => _items[index];

    public bool Equals(EquatableArray<T> other) => this.SequenceEqual(other);

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode() => this.Aggregate(17, (h, x) => (h * 31) + (x?.GetHashCode() ?? 0));

    public IEnumerator<T> GetEnumerator() => (_items.IsDefault ? ImmutableArray<T>.Empty : _items).AsEnumerable().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A source location without a syntax tree, so it can live in a cached model.</summary>
internal sealed record SourceSpot(string Path, TextSpan Span, LinePositionSpan Lines)
{
    public static SourceSpot From(Location location)
    {
        var lines = location.GetLineSpan();
        return new SourceSpot(lines.Path, location.SourceSpan, lines.Span);
    }

    public Location ToLocation() => Location.Create(Path, Span, Lines);

    public int Line => Lines.Start.Line + 1;
}

/// <summary>A diagnostic found while reading a flow, reported when the flow is emitted.</summary>
internal sealed record FoundDiagnostic(string Id, SourceSpot Where, EquatableArray<string> Args);

/// <summary>A step as the generator read it.</summary>
/// <param name="Name">The method name.</param>
/// <param name="Kind">How it continues: linear, split, foreach, switch or end.</param>
/// <param name="Next">The steps its Next calls name, in call order, without repeats.</param>
/// <param name="ForEach">For a foreach, the collection artifact.</param>
/// <param name="Description">The summary comment.</param>
/// <param name="ReturnsTask">Whether the method is async.</param>
/// <param name="Where">The method's name token.</param>
/// <param name="File">The source file relative to the project (set after reading).</param>
/// <param name="IsJoin">Whether it takes <c>Inputs&lt;TFlow&gt;</c>.</param>
/// <param name="ItemType">The type of its foreach item parameter, as written for <c>Item&lt;T&gt;()</c>.</param>
/// <param name="ElementType">For a foreach, the element type of the collection, for <c>typeof</c>.</param>
/// <param name="MatchingJoin">For a split or foreach, the join where its branches meet (set by the graph rules).</param>
/// <param name="Retry">[Retry]: the extra attempts, or null.</param>
/// <param name="Catch">[Catch]: the artifact for the failure ("" for none), or null.</param>
/// <param name="TimeoutSeconds">[Timeout]: the seconds a task may run, or 0.</param>
/// <param name="Environment">[Environment]: NAME=value pairs, in declaration order.</param>
/// <param name="Card">[Card]: present with its title (null for the step's name) and whether it lists artifacts.</param>
/// <param name="Placement">[Slurm] (the step's or the flow's), [Resources] and [Local]; null without any.</param>
internal sealed record StepModel(
    string Name,
    string Kind,
    EquatableArray<string> Next,
    string? ForEach,
    string? Description,
    bool ReturnsTask,
    SourceSpot Where,
    string File,
    bool IsJoin = false,
    string? ItemType = null,
    string? ElementType = null,
    string? MatchingJoin = null,
    int? Retry = null,
    string? Catch = null,
    int TimeoutSeconds = 0,
    EquatableArray<string> Environment = default,
    CardModel? Card = null,
    PlacementModel? Placement = null);

internal sealed record CardModel(string? Title, bool Artifacts);

/// <summary>Where a step's tasks run: on Slurm (with its settings) or kept local, and what each needs.</summary>
internal sealed record PlacementModel(bool Slurm, string? Partition, string? Time, string? Account, bool Local, int Cpu, int MemoryMb, int Gpu, bool HasResources);

internal sealed record ArtifactModel(string Name, string Type, string Accessibility);

internal sealed record ParameterModel(
    string Name,
    string Option,
    string DisplayType,
    string Type,
    string TypeOf,
    string? Default,
    bool Required,
    string? Help,
    bool IsFile = false,
    string? Separator = null,
    string? Encoding = null,
    EquatableArray<string> EnumValues = default);

/// <summary>A flow as the generator read it: the model its source, diagnostics and graph are emitted from.</summary>
/// <param name="Namespace">The class's namespace, or null for the global one.</param>
/// <param name="ClassName">The class's name, which is the flow's name.</param>
/// <param name="FullName">The class's fully qualified name, with <c>global::</c>.</param>
/// <param name="Description">The class's summary comment.</param>
/// <param name="RelativeFile">The file of the class relative to the project (set by <see cref="FlowReader.InProject"/>).</param>
/// <param name="Steps">The steps, in source order.</param>
/// <param name="Artifacts">The partial properties the generator implements.</param>
/// <param name="Parameters">The [Parameter] and [IncludeFile] properties.</param>
/// <param name="Diagnostics">The errors found while reading; a flow with any has no definition.</param>
/// <param name="CanEmitArtifacts">Whether the class can take generated members (top-level, partial, not generic).</param>
/// <param name="Where">The class's name token.</param>
/// <param name="MetadataName">The name the compiler finds the class by; flows are ordered by it across the project.</param>
internal sealed record FlowModel(
    string? Namespace,
    string ClassName,
    string FullName,
    string? Description,
    string RelativeFile,
    EquatableArray<StepModel> Steps,
    EquatableArray<ArtifactModel> Artifacts,
    EquatableArray<ParameterModel> Parameters,
    EquatableArray<FoundDiagnostic> Diagnostics,
    bool CanEmitArtifacts,
    SourceSpot Where,
    string MetadataName)
{
    public bool HasErrors => Diagnostics.Count > 0;
}

/// <summary>What the generator learns at one [Step] method.</summary>
/// <param name="Type">The metadata name of the method's class.</param>
/// <param name="Flow">The whole flow, at the flow's first [Step] method only (<see cref="FlowReader.IsReadAt"/>).</param>
/// <param name="Outside">The method, when its class does not derive from FlowSpec.</param>
internal sealed record StepSite(string Type, FlowModel? Flow, StepOutsideFlow? Outside);

/// <summary>A [Step] method in a class that is not a flow (FLOW0016).</summary>
internal sealed record StepOutsideFlow(string Method, string Type, SourceSpot Where);

/// <summary>What the entry point and the checks across flows need of one flow, so that they rerun only when it changes.</summary>
/// <param name="MetadataName">The order of the flows in the entry point.</param>
/// <param name="ClassName">The flow's name, which no other flow may have.</param>
/// <param name="FullName">The class, for the entry point and the clash message.</param>
/// <param name="Where">The class's name token, where a clash is reported.</param>
/// <param name="HasErrors">Whether the flow has errors, which keep the entry point out.</param>
/// <param name="GraphJson">The graph, for the entry point's metadata; null when the flow has errors (no entry point is made then).</param>
internal sealed record FlowSummary(string MetadataName, string ClassName, string FullName, SourceSpot Where, bool HasErrors, string? GraphJson)
{
    public static FlowSummary Of(FlowModel flow) =>
        new(flow.MetadataName, flow.ClassName, flow.FullName, flow.Where, flow.HasErrors, flow.HasErrors ? null : FlowEmitter.GraphJson(flow));
}
