using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The artifacts of one task: those it inherited (by reference, loaded on first read) and those it set.
/// </summary>
internal sealed class ArtifactScope
{
    private readonly IReadOnlyDictionary<string, ArtifactRef> _inherited;
    private readonly Func<string, ArtifactRef, Type, object?>? _load;
    private readonly string _where;
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    public ArtifactScope(IReadOnlyDictionary<string, ArtifactRef> inherited, Func<string, ArtifactRef, Type, object?>? load, string where)
    {
        _inherited = inherited;
        _load = load;
        _where = where;
    }

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

    public void Set<T>(string name, T value) => _slots[name] = new Slot(value, typeof(T), IsSet: true, LoadedFrom: null);

    /// <summary>Artifacts set in this task, and artifacts read that may have been changed in place.</summary>
    public IEnumerable<(string Name, Slot Slot)> Touched => _slots.Select(p => (p.Key, p.Value));

    internal sealed record Slot(object? Value, Type Type, bool IsSet, ArtifactRef? LoadedFrom)
    {
        /// <summary>Values of these types cannot change in place, so a read one never needs persisting again.</summary>
        public bool MayHaveChanged => !IsSet && Value is not null and not string && !Type.IsPrimitive && !Type.IsEnum
            && Type != typeof(decimal) && Type != typeof(DateTime) && Type != typeof(DateTimeOffset) && Type != typeof(DateOnly)
            && Type != typeof(Guid) && Type != typeof(TimeSpan);
    }
}
