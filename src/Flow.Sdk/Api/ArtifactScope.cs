using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// The artifacts of one task: those it inherited (by reference, loaded on first read) and those it set.
/// </summary>
internal sealed class ArtifactScope
{
    private readonly Dictionary<string, ArtifactRef> _inherited;
    private readonly Func<string, ArtifactRef, Type, object?>? _load;
    private readonly string _where;
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly string _readOnlyReason;

    public ArtifactScope(IReadOnlyDictionary<string, ArtifactRef> inherited, Func<string, ArtifactRef, Type, object?>? load, string where, bool readOnly = false, IReadOnlySet<string>? fixedNames = null, string? readOnlyReason = null)
    {
        _readOnlyReason = readOnlyReason ?? "a join's inputs are read-only. Set it on the join itself.";
        _inherited = new Dictionary<string, ArtifactRef>(inherited, StringComparer.Ordinal);
        _load = load;
        _where = where;
        ReadOnly = readOnly;
        FixedNames = fixedNames ?? new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Gets a value indicating whether this scope belongs to a join's input, which cannot be changed.</summary>
    public bool ReadOnly { get; }

    /// <summary>Gets the names that are never merged: the run's parameters, the same in every task.</summary>
    public IReadOnlySet<string> FixedNames { get; }

    /// <summary>Gets a value indicating whether this scope is a join's (MergeArtifacts is allowed).</summary>
    public bool IsJoin { get; init; }

    /// <summary>A scope outside any run: a flow object used as a plain object (a unit test, a notebook).</summary>
    public static ArtifactScope Detached() => new(new Dictionary<string, ArtifactRef>(), null, "this flow object (not in a run)");

    public IReadOnlyDictionary<string, ArtifactRef> Inherited => _inherited;

    public T Get<T>(string name)
    {
        if (_slots.TryGetValue(name, out var slot))
        {
            return (T)slot.Value!;
        }
        if (_load is not null && _inherited.TryGetValue(name, out var reference))
        {
            var value = _load(name, reference, typeof(T));
            _slots[name] = new Slot(value, typeof(T), IsSet: false, LoadedFrom: reference);
            return (T)value!;
        }
        throw new InvalidOperationException(
            $"Artifact '{name}' has no value in {_where}: it was neither set in this step nor inherited from an earlier one. Assign it first (after a join, assign it or use MergeArtifacts).");
    }

    public void Set<T>(string name, T value)
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException($"Artifact '{name}' of {_where} cannot be set: {_readOnlyReason}");
        }
        _slots[name] = new Slot(value, typeof(T), IsSet: true, LoadedFrom: null);
    }

    /// <summary>Takes the inputs' artifacts that this scope lacks and that are equal wherever present, by reference.</summary>
    public void Merge(IReadOnlyList<(string Step, ArtifactScope Scope)> inputs, IReadOnlyList<string>? include, IReadOnlySet<string>? exclude)
    {
        if (!IsJoin)
        {
            throw new InvalidOperationException($"MergeArtifacts is called in {_where}, which is not a join; only a join step (taking Inputs) merges.");
        }
        var names = inputs.SelectMany(i => i.Scope._inherited.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (include is not null)
        {
            var missing = include.Where(n => !names.Contains(n, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"MergeArtifacts(include: ...) names {string.Join(", ", missing)}, which no input of {_where} has.");
            }
            names = [.. include.Distinct(StringComparer.Ordinal)];
        }
        var merged = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        var conflicts = new List<string>();
        foreach (var name in names)
        {
            if (FixedNames.Contains(name) || (exclude?.Contains(name) ?? false) || (_slots.TryGetValue(name, out var slot) && slot.IsSet) || _inherited.ContainsKey(name))
            {
                continue;
            }
            var values = inputs.Where(i => i.Scope._inherited.ContainsKey(name)).Select(i => (i.Step, Ref: i.Scope._inherited[name])).ToList();
            if (values.Select(v => v.Ref.Sha).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                conflicts.Add($"{name} ({string.Join(", ", values.GroupBy(v => v.Ref.Sha).Select(g => string.Join("/", g.Select(v => v.Step).Distinct())))} differ)");
                continue;
            }
            merged[name] = values[0].Ref;
        }
        if (conflicts.Count > 0)
        {
            throw new InvalidOperationException(
                $"MergeArtifacts in {_where}: the inputs disagree on {string.Join("; ", conflicts)}. Assign {(conflicts.Count == 1 ? "it" : "them")} in the join before merging, or exclude {(conflicts.Count == 1 ? "it" : "them")}.");
        }
        foreach (var (name, reference) in merged)
        {
            _inherited[name] = reference;
        }
    }

    /// <summary>Artifacts set in this task, and artifacts read that may have been changed in place.</summary>
    public IEnumerable<(string Name, Slot Slot)> Touched
    {
        get
        {
            foreach (var (name, slot) in _slots)
            {
                yield return (name, slot);
            }
        }
    }

    internal sealed record Slot(object? Value, Type Type, bool IsSet, ArtifactRef? LoadedFrom)
    {
        /// <summary>Values of these types cannot change in place, so a read one never needs persisting again.</summary>
        public bool MayHaveChanged => !IsSet && Value is not null and not string && !Type.IsPrimitive && !Type.IsEnum
            && Type != typeof(decimal) && Type != typeof(DateTime) && Type != typeof(DateTimeOffset) && Type != typeof(DateOnly)
            && Type != typeof(Guid) && Type != typeof(TimeSpan) && Value is not Stream and not IncludedFile;
    }
}
