using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// A task's card (docs/cards.md): the HTML its step rendered, as stored. It is a fragment: the tool's
/// <c>card get</c> and UI wrap it in a page with the styles and the scripts that draw its charts.
/// </summary>
public sealed class CardInfo
{
    private readonly FlowDatastore _store;
    private readonly string _attemptDir;
    private string? _html;

    internal CardInfo(FlowDatastore store, string attemptDir, TaskInfo task, int attempt, DateTimeOffset updatedAt, bool isFinal)
    {
        _store = store;
        _attemptDir = attemptDir;
        Task = task;
        Attempt = attempt;
        UpdatedAt = updatedAt;
        IsFinal = isFinal;
    }

    /// <summary>Gets the task.</summary>
    public TaskInfo Task { get; }

    /// <summary>Gets the attempt that rendered the card.</summary>
    public int Attempt { get; }

    /// <summary>Gets the card's HTML fragment (an <c>article</c> element): every value in it is escaped. Read on first use.</summary>
    public string Html => _html ??= _store.ReadCard(_attemptDir) ?? string.Empty;

    /// <summary>Gets when the card was stored (its last refresh while the task runs).</summary>
    public DateTimeOffset UpdatedAt { get; }

    /// <summary>Gets a value indicating whether the attempt has ended, so the card will not change again.</summary>
    public bool IsFinal { get; }

    /// <inheritdoc/>
    public override string ToString() => $"Card('{Task.Pathspec}', attempt {Attempt})";

    /// <summary>The card of an attempt's folder, or null when it has none.</summary>
    internal static CardInfo? Read(FlowDatastore store, TaskInfo task, int attempt, string attemptDir) =>
        store.CardStoredAt(attemptDir) is { } storedAt
            ? new CardInfo(store, attemptDir, task, attempt, storedAt, store.ReadAttemptDone(attemptDir) is not null)
            : null;
}
