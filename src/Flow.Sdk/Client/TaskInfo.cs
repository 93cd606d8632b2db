using System.Reflection;
using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Hosting;

namespace Flow.Sdk;

/// <summary>One task of a step: its latest attempt, its artifacts and its output.</summary>
public sealed class TaskInfo
{
    private readonly FlowDatastore _store;
    private (int Attempt, AttemptDoneRecord? Done)? _latest;
    private readonly Dictionary<(string Name, Type Type), object?> _loaded = [];

    internal TaskInfo(FlowDatastore store, StepInfo step, string id)
    {
        _store = store;
        Step = step;
        Id = id;
    }

    /// <summary>Gets the step.</summary>
    public StepInfo Step { get; }

    /// <summary>Gets the task id.</summary>
    public string Id { get; }

    /// <summary>Gets the pathspec, <c>Flow/runId/Step/taskId</c>.</summary>
    public string Pathspec => $"{Step.Pathspec}/{Id}";

    private (int Attempt, AttemptDoneRecord? Done) Latest => _latest ??= ReadLatest();

    private (int, AttemptDoneRecord?) ReadLatest()
    {
        var attempts = _store.ListAttempts(Step.Run.Flow, Step.Run.Id, Step.Name, Id);
        var last = attempts.Count == 0 ? 0 : attempts[^1];
        return (last, _store.ReadAttemptDone(AttemptDir(last)));
    }

    private string AttemptDir(int attempt) => _store.AttemptDir(Step.Run.Flow, Step.Run.Id, Step.Name, Id, attempt);

    /// <summary>Gets the number of the latest attempt, from 0.</summary>
    public int Attempt => Latest.Attempt;

    /// <summary>
    /// Gets the latest attempt's state: <c>succeeded</c>, <c>failed</c>, <c>running</c> while its heartbeat is
    /// fresh, or <c>died</c> when it was never finalized and its heartbeat stopped (its process is gone).
    /// </summary>
    public string Status
    {
        get
        {
            return _store.AttemptStatus(AttemptDir(Attempt), Latest.Done);
        }
    }

    /// <summary>Gets when the task's first attempt started, or null when none recorded it (a clone, say).</summary>
    public DateTimeOffset? StartedAt => _store.ReadAttemptStart(AttemptDir(0))?.StartedAt;

    /// <summary>Gets when the latest attempt was finalized, or null while it has not been.</summary>
    public DateTimeOffset? FinishedAt => Latest.Done?.FinishedAt;

    /// <summary>Gets the latest attempt's state as a value: <see cref="Status"/>, typed.</summary>
    public TaskState State => Status switch
    {
        AttemptDoneRecord.Succeeded => TaskState.Succeeded,
        AttemptDoneRecord.Failed => TaskState.Failed,
        RunStates.Running => TaskState.Running,
        _ => TaskState.Died,
    };

    /// <summary>Gets a value indicating whether the latest attempt is finalized.</summary>
    public bool Finished => Latest.Done is not null;

    /// <summary>Gets a value indicating whether the latest attempt succeeded.</summary>
    public bool Successful => Latest.Done?.IsSuccess == true;

    /// <summary>Gets the exception type and message the task failed with, or null.</summary>
    public string? Error => Latest.Done?.Error is { } e ? $"{e.Type}: {e.Message}" : null;

    /// <summary>Gets how the latest attempt failed (exception type, message, the user's stack trace), or null when it did not.</summary>
    public StepError? Exception => Latest.Done?.Error is { } e ? new StepError(e.Type, e.Message, e.StackTrace) : null;

    /// <summary>Gets every attempt of the task, from 0: each with its state, failure, times and output.</summary>
    public IReadOnlyList<AttemptInfo> Attempts =>
        [.. _store.ListAttempts(Step.Run.Flow, Step.Run.Id, Step.Name, Id).Select(a => new AttemptInfo(_store, this, a, AttemptDir(a)))];

    /// <summary>Gets the tasks this task ran after (its inputs: one, or a join's several), in input order.</summary>
    public IReadOnlyList<TaskInfo> Parents =>
        [.. (_store.ReadAttemptStart(AttemptDir(Attempt))?.InputPaths ?? []).Select(ByInputPath).OfType<TaskInfo>()];

    /// <summary>Gets the tasks that ran after this one (whose inputs include it).</summary>
    public IReadOnlyList<TaskInfo> Children
    {
        get
        {
            var me = $"{Step.Run.Id}/{Step.Name}/{Id}";
            // Only the steps the graph says follow this one (every step when the graph cannot be read).
            var next = Step.Run.Graph?.FindStep(Step.Name)?.Next;
            var steps = next is null ? Step.Run.Steps : Step.Run.Steps.Where(s => next.Contains(s.Name, StringComparer.Ordinal));
            return [.. steps.SelectMany(s => s.Tasks)
                .Where(t => (_store.ReadAttemptStart(t.AttemptDir(t.Attempt))?.InputPaths ?? []).Contains(me, StringComparer.Ordinal))];
        }
    }

    private TaskInfo? ByInputPath(string path)
    {
        var parts = path.Split('/');
        return parts.Length == 3 ? new TaskInfo(_store, new StepInfo(_store, parts[0] == Step.Run.Id ? Step.Run : new RunInfo(_store, Step.Run.Flow, parts[0]), parts[1]), parts[2]) : null;
    }

    /// <summary>Gets the item of the innermost foreach around the task, loaded as <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <returns>The item.</returns>
    public T ForeachValue<T>()
    {
        var frame = (Latest.Done?.Position ?? []).LastOrDefault(f => f.Kind == FrameRecord.ForEach)
            ?? throw new FlowException($"Task {Pathspec} is not inside a foreach, so it has no foreach value.");
        return (T)ArtifactCodec.Load(_store.Blobs, frame.Item ?? throw new FlowException($"Task {Pathspec} has no stored foreach item."), typeof(T))!;
    }

    /// <summary>Reads an artifact as JSON, without the flow's assembly (byte[] as base64; see <c>dump --json</c>).</summary>
    /// <param name="name">The artifact's property name.</param>
    /// <returns>The value as a JSON element.</returns>
    public JsonElement Data(string name)
    {
        using var doc = JsonDocument.Parse(this[name].ToJson());
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// Reads the task as an object of its flow class, <typeparamref name="TFlow"/>: its artifacts are the flow's
    /// properties (<c>task.As&lt;TrainFlow&gt;().Score</c>), each loaded on first read, and its parameters the run's.
    /// </summary>
    /// <typeparam name="TFlow">The flow class (its assembly referenced).</typeparam>
    /// <returns>A read-only flow object; setting an artifact throws.</returns>
    public TFlow As<TFlow>()
        where TFlow : FlowSpec
    {
        var definition = typeof(TFlow).GetProperty("FlowDefinition__", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as FlowDefinition
            ?? throw new FlowException($"{typeof(TFlow).FullName} is not a flow class built with Flow.Sdk (it has no generated definition).");
        if (definition.Name != Step.Run.Flow)
        {
            throw new FlowException($"Task {Pathspec} belongs to {Step.Run.Flow}, not to {definition.Name}.");
        }
        var done = Latest.Done ?? throw new FlowException($"Task {Pathspec} has not finished, so it has no artifacts yet.");
        var parameters = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var parameter in definition.Parameters)
        {
            parameters[parameter.Name] = done.Artifacts.TryGetValue(parameter.Name, out var reference)
                ? ArtifactCodec.Load(_store.Blobs, reference, parameter.Type)
                : parameter.Getter(definition.CreateDefault());
        }
        var flow = definition.Create(new ParameterValues(parameters));
        flow.Artifacts = new ArtifactScope(done.Artifacts, (_, reference, type) => ArtifactCodec.Load(_store.Blobs, reference, type), $"task {Pathspec}", readOnly: true, readOnlyReason: "a run read through the client never changes.");
        flow.Position = new TaskPosition(Step.Name, done.Position, done.Iteration, f => f.Item is { } item ? ArtifactCodec.Load(_store.Blobs, item, typeof(JsonElement)) : null);
        return (TFlow)flow;
    }

    /// <summary>Gets the task's index in each foreach around it, outermost first; empty outside a foreach.</summary>
    public IReadOnlyList<int> ForeachIndices =>
        [.. (Latest.Done?.Position ?? []).Where(f => f.Kind == FrameRecord.ForEach).Select(f => f.Index)];

    /// <summary>Gets the task's index in the innermost foreach around it, or null outside a foreach.</summary>
    public int? Index => ForeachIndices is { Count: > 0 } indices ? indices[^1] : null;

    /// <summary>Gets the pass of a looping step's task, from 0.</summary>
    public int Iteration => Latest.Done?.Iteration ?? 0;

    /// <summary>Gets the artifacts of the latest finalized attempt (parameters included), by name.</summary>
    public IReadOnlyList<ArtifactInfo> Artifacts =>
        [.. (Latest.Done?.Artifacts ?? new Dictionary<string, ArtifactRef>()).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new ArtifactInfo(_store, this, a.Key, a.Value))];

    /// <summary>Gets an artifact by name.</summary>
    /// <param name="name">The artifact's property name.</param>
    public ArtifactInfo this[string name] =>
        Latest.Done?.Artifacts.TryGetValue(name, out var reference) == true
            ? new ArtifactInfo(_store, this, name, reference)
            : throw new FlowException($"Task {Pathspec} has no artifact '{name}'{(Finished ? "" : " (the task has not finished)")}.");

    /// <summary>Reads an artifact's value as <typeparamref name="T"/>, loading it once.</summary>
    /// <typeparam name="T">The artifact's type (or a type its JSON binds to).</typeparam>
    /// <param name="name">The artifact's property name.</param>
    /// <returns>The value.</returns>
    public T Data<T>(string name)
    {
        if (!_loaded.TryGetValue((name, typeof(T)), out var value))
        {
            value = this[name].Value<T>();
            _loaded[(name, typeof(T))] = value;
        }
        return (T)value!;
    }

    /// <summary>Gets the task's standard output (latest attempt; a cloned task's is its origin's), without timestamps.</summary>
    public string Stdout => ReadLog(_store, OutputDir(), stdout: true);

    /// <summary>Gets the task's standard error (latest attempt; a cloned task's is its origin's), without timestamps.</summary>
    public string Stderr => ReadLog(_store, OutputDir(), stdout: false);

    /// <summary>
    /// Gets where the latest attempt's output is: its own folder, or for a task a resume cloned, the origin task's
    /// (a clone printed nothing; its output is the origin's).
    /// </summary>
    internal string OutputDir() => OutputDir(Attempt);

    /// <summary>Where an attempt's output is (following a clone to its origin).</summary>
    internal string OutputDir(int attempt)
    {
        var dir = AttemptDir(attempt);
        if (ClonedFromOf(attempt) is { } origin && origin.Split('/') is [var run, var step, var task]
            && FlowDatastore.IsId(run) && FlowDatastore.IsIdentifier(step) && FlowDatastore.IsId(task))
        {
            var attempts = _store.ListAttempts(Step.Run.Flow, run, step, task);
            return _store.AttemptDir(Step.Run.Flow, run, step, task, attempts.Count == 0 ? 0 : attempts[^1]);
        }
        return dir;
    }

    /// <summary>
    /// Gets the task's card (latest attempt; a cloned task's is its origin's), or null when its step renders none
    /// (no <c>[Card]</c> and no components added to <see cref="Current.Card"/>). While the task runs it is the last refresh.
    /// </summary>
    public CardInfo? Card => CardInfo.Read(_store, this, Attempt, OutputDir());

    /// <summary>Gets the origin task (<c>run/Step/task</c>, in the run this one resumed) it was cloned from, or null when it ran.</summary>
    public string? ClonedFrom => Latest.Done?.ClonedFrom;

    private string? ClonedFromOf(int attempt) =>
        attempt == Attempt ? Latest.Done?.ClonedFrom : _store.ReadAttemptDone(AttemptDir(attempt))?.ClonedFrom;

    /// <summary>Opens the task's output (latest attempt by default) to read as it grows; see <see cref="TaskOutput"/>.</summary>
    /// <param name="attempt">The attempt; default: the latest.</param>
    /// <param name="stdout">Whether to include standard output.</param>
    /// <param name="stderr">Whether to include standard error.</param>
    /// <returns>The output reader.</returns>
    /// <param name="from">Where an earlier reader stopped (<see cref="TaskOutput.Position"/>), to read only what came after.</param>
    public TaskOutput Output(int? attempt = null, bool stdout = true, bool stderr = true, OutputPosition? from = null)
    {
        var number = attempt ?? Attempt;
        if (attempt is not null && _store.ListAttempts(Step.Run.Flow, Step.Run.Id, Step.Name, Id) is var attempts && !attempts.Contains(number))
        {
            throw new FlowException($"Task {Pathspec} has no attempt {number}; its latest is {Attempt}.");
        }
        return new TaskOutput(_store, this, number, stdout, stderr, from ?? default);
    }

    internal static string ReadLog(FlowDatastore store, string attemptDir, bool stdout)
    {
        var text = new StringBuilder();
        foreach (var line in LogReader.ReadAll(store.FileSystem, attemptDir, stdout, stderr: !stdout))
        {
            text.AppendLine(line.Text);
        }
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Task('{Pathspec}')";

    internal AttemptDoneRecord? Done => Latest.Done;
}
