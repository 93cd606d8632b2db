namespace Flow.Sdk;

/// <summary>One level of foreach nesting around a task: which step fanned out, and which item this task has.</summary>
public sealed class ForeachFrame
{
    private readonly Lazy<object?> _value;

    internal ForeachFrame(string step, int index, int count, Func<object?> value)
    {
        Step = step;
        Index = index;
        Count = count;
        _value = new Lazy<object?>(value);
    }

    /// <summary>Gets the name of the step that fanned out (the foreach step).</summary>
    public string Step { get; }

    /// <summary>Gets this task's position among the items, from 0.</summary>
    public int Index { get; }

    /// <summary>Gets the number of items.</summary>
    public int Count { get; }

    /// <summary>Gets the item, loaded from the datastore on first read.</summary>
    public object? Value => _value.Value;

    /// <inheritdoc/>
    public override string ToString() => $"{Step}[{Index}/{Count}]";
}
