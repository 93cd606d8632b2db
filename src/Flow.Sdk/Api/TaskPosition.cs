using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>Where a task stands in its run: its step, the splits and foreach items around it, and its loop pass.</summary>
internal sealed class TaskPosition
{
    private readonly Func<FrameRecord, object?>? _loadItem;
    private IReadOnlyList<ForeachFrame>? _foreachStack;

    public TaskPosition(string step, IReadOnlyList<FrameRecord> frames, int iteration, Func<FrameRecord, object?>? loadItem)
    {
        Step = step;
        Frames = frames;
        Iteration = iteration;
        _loadItem = loadItem;
    }

    /// <summary>A flow object outside any run.</summary>
    public static TaskPosition None { get; } = new(string.Empty, [], 0, null);

    public string Step { get; }

    public IReadOnlyList<FrameRecord> Frames { get; }

    public int Iteration { get; }

    public IReadOnlyList<ForeachFrame> ForeachStack => _foreachStack ??=
    [
        .. Frames.Where(f => f.Kind == FrameRecord.ForEach)
            .Select(f => new ForeachFrame(f.Step, f.Index, f.Count, () => _loadItem is null ? null : _loadItem(f))),
    ];

    public ForeachFrame? Innermost => ForeachStack.Count > 0 ? ForeachStack[^1] : null;
}
