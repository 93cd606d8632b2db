using System.Collections;

namespace Flow.Sdk;

/// <summary>
/// The tasks a join step receives: in split order for a static split, in index order for a foreach. Each input is
/// read like the flow (<c>inputs[0].Score</c>) or by the step that produced it (<c>inputs[nameof(TrainA)].Score</c>).
/// </summary>
/// <typeparam name="TFlow">The flow class.</typeparam>
/// <remarks>Inputs are read-only: set artifacts on the join itself, or pass them on with <c>MergeArtifacts</c>.</remarks>
public sealed class Inputs<TFlow> : IReadOnlyList<TFlow>
    where TFlow : FlowSpec
{
    private readonly IReadOnlyList<TFlow> _items;

    internal Inputs(IReadOnlyList<TFlow> items) => _items = items;

    /// <summary>Gets the number of inputs.</summary>
    public int Count => _items.Count;

    /// <summary>Gets an input by position.</summary>
    /// <param name="index">The branch (split order) or the foreach index.</param>
    public TFlow this[int index] => _items[index];

    /// <summary>Gets the input produced by a step, as <c>inputs[nameof(TrainA)]</c>.</summary>
    /// <param name="step">The name of the step that produced the input.</param>
    /// <exception cref="KeyNotFoundException">No input comes from that step.</exception>
    /// <exception cref="InvalidOperationException">Several inputs come from that step (a foreach): use the index.</exception>
    public TFlow this[string step]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(step);
            var matches = _items.Where(i => i.Position.Step == step).ToList();
            if (matches.Count == 0)
            {
                matches = [.. _items.Where(i => string.Equals(i.Position.Step, step, StringComparison.OrdinalIgnoreCase))];
            }
            return matches.Count switch
            {
                1 => matches[0],
                0 => throw new KeyNotFoundException(
                    $"No input of this join comes from step {step}; the inputs come from {string.Join(", ", _items.Select(i => i.Position.Step).Distinct())}."),
                _ => throw new InvalidOperationException(
                    $"{matches.Count} inputs of this join come from step {step} (a foreach); read them by index or iterate over them."),
            };
        }
    }

    /// <inheritdoc/>
    public IEnumerator<TFlow> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
