using System.Globalization;
using System.IO.Abstractions;
using System.Text.Json;
using Flow.Sdk.Cards;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>Executes one task attempt in the current process and finalizes it in the datastore.</summary>
/// <remarks>
/// A worker process keeps one runner for all its tasks, so what every task of a run reads alike (the datastore,
/// the run record, small blobs such as parameters and foreach item lists) is read once per worker.
/// </remarks>
/// <param name="fs">The file system.</param>
/// <param name="flows">The flows of this project, by name.</param>
/// <param name="ownsProcess">Whether the runner may end its process (a worker, the <c>step</c> command): only then does
/// it enforce <c>[Timeout]</c> itself and honour <see cref="Stop"/>; in-process callers (tests) never lose their process.</param>
internal sealed class TaskRunner(IFileSystem fs, IReadOnlyDictionary<string, FlowDefinition> flows, bool ownsProcess = false)
{
    /// <summary>The error type of an attempt stopped at its <c>[Timeout]</c>.</summary>
    public const string TimeoutError = "Timeout";

    /// <summary>The error type of an attempt that broke a run limit (<c>--max-num-splits</c>): retrying cannot help.</summary>
    public const string LimitError = "LimitExceeded";

    /// <summary>The exit code of a task process stopped at its <c>[Timeout]</c>, as <c>timeout(1)</c> uses.</summary>
    public const int TimeoutExitCode = 124;

    private readonly Dictionary<string, FlowDatastore> _stores = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Flow, string RunId), RunRecord> _runs = [];
    private readonly BlobCache _cache = new();
    private readonly Dictionary<string, AttemptDoneRecord> _inputs = new(StringComparer.Ordinal);
    private const int MaxCachedInputs = 256;
    private readonly Lock _gate = new();
    private (FlowDatastore Store, string AttemptDir)? _current;

    /// <summary>Gets a value indicating whether an attempt is running in this process now.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _current is not null;
            }
        }
    }

    /// <summary>
    /// Ends this process because the attempt it runs cannot go on (its <c>[Timeout]</c>, a signal, its orchestrator
    /// gone): the attempt is recorded as failed with <paramref name="message"/> (unless it finished meanwhile: the
    /// first record wins), then the process and everything it started are killed. A step's code cannot be stopped
    /// any other way.
    /// </summary>
    public void Stop(string type, string message, int exitCode)
    {
        if (!ownsProcess)
        {
            return;
        }
        lock (_gate)
        {
            if (_current is { } current)
            {
                Finish(current.Store, current.AttemptDir, Failed(new ErrorRecord(type, message, null)));
                Console.Error.WriteLine($"flow: {message}");
            }
            foreach (var store in _stores.Values)
            {
                store.ReleaseLease();
            }
            Console.Out.Flush();
            Console.Error.Flush();
            Environment.ExitCode = exitCode;
            try
            {
                // The step may have started processes of its own: they go too.
                System.Diagnostics.Process.GetCurrentProcess().Kill(entireProcessTree: true);
            }
            finally
            {
                Environment.Exit(exitCode);
            }
        }
    }

    /// <summary>Runs the task; never throws for a failure of the user's code (it is recorded and returned).</summary>
    public async Task<AttemptDoneRecord> RunAsync(TaskRequest request)
    {
        if (!_stores.TryGetValue(request.Datastore, out var store))
        {
            store = FlowDatastore.Open(fs, request.Datastore, create: false);
            _stores[request.Datastore] = store;
            // A step that reads other runs through FlowClient reads this run's datastore, wherever --datastore put it.
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(DatastoreLocator.EnvironmentVariable)))
            {
                Environment.SetEnvironmentVariable(DatastoreLocator.EnvironmentVariable, store.Root);
            }
        }
        var run = ReadRun(store, request.Flow, request.RunId)
            ?? throw new FlowException($"No run {request.Flow}/{request.RunId} in {store.Root}; a task runs only inside a run that exists.");
        var attemptDir = store.AttemptDir(request.Flow, request.RunId, request.Step, request.TaskId, request.Attempt);
        if (store.ReadAttemptDone(attemptDir) is { } finished)
        {
            // An attempt is immutable once finalized: running it again would change nothing a reader trusts.
            return finished;
        }
        lock (_gate)
        {
            _current = (store, attemptDir);
        }
        try
        {
            return await RunAttemptAsync(store, attemptDir, request, run);
        }
        catch (FlowException e)
        {
            // A damaged input or run record: the attempt is finalized as failed, never left half-written.
            await Console.Error.WriteLineAsync(e.Message);
            return Finish(store, attemptDir, Failed(new ErrorRecord("FlowError", e.Message, null)));
        }
        finally
        {
            lock (_gate)
            {
                _current = null;
            }
        }
    }

    private RunRecord? ReadRun(FlowDatastore store, string flow, string runId)
    {
        if (_runs.TryGetValue((flow, runId), out var run))
        {
            return run;
        }
        run = store.ReadRun(flow, runId);
        if (run is not null)
        {
            // run.json is written once and never changed, so a worker reads it once.
            _runs[(flow, runId)] = run;
        }
        return run;
    }

    private async Task<AttemptDoneRecord> RunAttemptAsync(FlowDatastore store, string attemptDir, TaskRequest request, RunRecord run)
    {
        // The orchestrator wrote it for a task it sent to a worker; a task run by itself (a cluster job) writes it.
        if (!store.HasAttemptStart(attemptDir))
        {
            store.StartAttempt(attemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, request.InputPaths, Environment.ProcessId, request.SplitIndex));
        }
        var heartbeatPath = store.AttemptHeartbeatPath(attemptDir);
        using var heartbeat = new Timer(_ => Heartbeat.Beat(fs, heartbeatPath), null, TimeSpan.Zero, Heartbeat.Interval);

        if (!flows.TryGetValue(request.Flow, out var definition))
        {
            return Finish(store, attemptDir, Failed(new ErrorRecord("FlowNotFound", $"This snapshot has no flow named {request.Flow}.", null)));
        }
        var graphStep = definition.Graph.FindStep(request.Step);
        if (graphStep is null || !definition.Steps.TryGetValue(graphStep.Name, out var invoker))
        {
            return Finish(store, attemptDir, Failed(new ErrorRecord("StepNotFound", $"Flow {request.Flow} has no step {request.Step}.", null)));
        }

        // The task stops itself at its [Timeout], wherever it runs and whether or not its orchestrator is alive.
        using var timeout = graphStep.TimeoutSeconds > 0 && ownsProcess
            ? new Timer(_ => Stop(TimeoutError, $"the task ran longer than its [Timeout] of {graphStep.TimeoutSeconds} s and was stopped", TimeoutExitCode), null, TimeSpan.FromSeconds(graphStep.TimeoutSeconds), Timeout.InfiniteTimeSpan)
            : null;
        // Everything the task stores becomes durable together, before done.json names it (docs/datastore.md, "Durability").
        using var blobs = store.Blobs.BeginBatch();
        var task = $"{request.Flow}/{request.RunId}/{graphStep.Name}/{request.TaskId}";
        var where = $"step {graphStep.Name}";
        var inputs = ReadInputs(store, request);
        var (frames, iteration) = Locate(store, definition, graphStep, request, inputs);
        // Start and joins inherit only the run's parameters; every other step inherits all of its parent's artifacts.
        var inherited = inputs.Count == 0 || graphStep.IsJoin ? run.Parameters : inputs[0].Done.Artifacts;
        var parameterNames = new HashSet<string>(run.Parameters.Keys, StringComparer.Ordinal);
        object? Load(string name, ArtifactRef reference, Type type) => LoadArtifact(store, name, reference, type, task);
        object? LoadItem(FrameRecord frame) => frame.Item is null ? null
            : Load($"item {frame.Index} of {frame.Step}", frame.Item, definition.ForEach.TryGetValue(frame.Step, out var fe) ? fe.ElementType : typeof(object));

        ErrorRecord? error = null;
        ErrorRecord? caught = null;
        FlowSpec? flow = null;
        ForEachRecord? fanOut = null;
        var cardTitle = graphStep.Card?.Title ?? graphStep.Name;
        var card = new TaskCard(
            html => store.WriteCard(attemptDir, html),
            () => CardRenderer.Header(cardTitle, task, string.Create(CultureInfo.InvariantCulture, $"attempt {request.Attempt} · running · {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC")));
        using (Current.Enter(new TaskIdentity(request.Flow, request.RunId, graphStep.Name, request.TaskId, request.Attempt, run.OriginRunId, card)))
        {
            try
            {
                var values = definition.Parameters.ToDictionary(
                    p => p.Name,
                    p => !run.Parameters.TryGetValue(p.Name, out var r) ? p.Getter(definition.CreateDefault())
                        : p.Type == typeof(IncludedFile) ? IncludedFileOf(store, r, run.Files?.GetValueOrDefault(p.Name))
                        : Load(p.Name, r, p.Type));
                flow = definition.Create(new ParameterValues(values));
                flow.Artifacts = new ArtifactScope(inherited, Load, where, fixedNames: parameterNames) { IsJoin = graphStep.IsJoin };
                flow.Position = new TaskPosition(graphStep.Name, frames, iteration, LoadItem);
                var item = frames.LastOrDefault(f => f.Kind == FrameRecord.ForEach);
                var arguments = new StepArguments(
                    type => item is null ? null : type == typeof(object) ? LoadItem(item) : item.Item is { } reference ? Load($"item {item.Index} of {item.Step}", reference, type) : null,
                    () => [.. inputs.Select(i => InputFlow(definition, values, i, Load, LoadItem, parameterNames))]);
                if (request.Caught is null)
                {
                    await invoker(flow, arguments);
                    error = CheckTransition(flow, graphStep);
                    if (error is null && graphStep.Kind == "foreach")
                    {
                        fanOut = FanOut(store, definition, flow, graphStep, run.Options?.MaxNumSplits ?? int.MaxValue);
                    }
                }
            }
            catch (RunLimitException e)
            {
                error = new ErrorRecord(LimitError, e.Message, null);
                await Console.Error.WriteLineAsync($"{where} failed: {e.Message}");
            }
            catch (Exception e)
            {
                error = Describe(e);
                await Console.Error.WriteLineAsync($"{where} failed: {UserTrace(e)}");
            }
            if (flow is not null && graphStep.Catch is { } variable && (request.Caught ?? (request.CatchFailure ? error : null)) is { } failure)
            {
                // [Catch]: the failure becomes data and the flow goes on to the step's successor.
                caught = failure;
                error = null;
                if (variable.Length > 0)
                {
                    flow.Artifacts.Set(variable, new StepError(failure.Type, failure.Message, failure.StackTrace));
                }
                flow.Continue(graphStep.Next);
                await Console.Error.WriteLineAsync($"{where}: [Catch] caught {failure.Type}: {failure.Message}; the flow continues with {string.Join(", ", graphStep.Next)}.");
            }
        }

        var artifacts = new Dictionary<string, ArtifactRef>(flow?.Artifacts.Inherited ?? inherited, StringComparer.Ordinal);
        if (flow is not null)
        {
            try
            {
                Persist(store, flow.Artifacts, artifacts, graphStep.Name);
            }
            catch (FlowException e)
            {
                // The step's own exception, when there is one, is the failure to report; the artifact is secondary.
                error ??= new ErrorRecord("ArtifactSerializationError", e.Message, null);
                await Console.Error.WriteLineAsync(e.Message);
            }
        }
        blobs.Commit();
        card.Close();
        if (flow is not null && (graphStep.Card is not null || card.HasComponents))
        {
            await WriteFinalCardAsync(store, attemptDir, card, cardTitle, task, request.Attempt, error is null, graphStep.Card?.Artifacts == true ? artifacts : null);
        }
        var done = new AttemptDoneRecord(
            error is null ? AttemptDoneRecord.Succeeded : AttemptDoneRecord.Failed,
            DateTimeOffset.UtcNow,
            artifacts,
            flow?.NextTargets.ToArray() ?? [],
            error ?? caught,
            frames,
            iteration,
            error is null ? fanOut : null);
        return Finish(store, attemptDir, done);
    }

    /// <summary>The largest artifact whose value a card shows beside its name.</summary>
    private const int CardPreviewBytes = 1024;

    /// <summary>
    /// Stores the task's final card, before done.json. Whatever goes wrong here is reported in the card or on stderr:
    /// a card never fails its task.
    /// </summary>
    private static async Task WriteFinalCardAsync(FlowDatastore store, string attemptDir, TaskCard card, string title, string task, int attempt, bool succeeded, IReadOnlyDictionary<string, ArtifactRef>? artifacts)
    {
        var header = CardRenderer.Header(title, task, string.Create(CultureInfo.InvariantCulture, $"attempt {attempt} · {(succeeded ? "succeeded" : "failed")} · {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC"));
        string html;
        try
        {
            var listed = artifacts?.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new CardArtifact(a.Key, a.Value.Type, a.Value.Size, Preview(store, a.Value))).ToList();
            html = CardRenderer.Render(header, card.Components, listed, live: false);
        }
        catch (Exception e)
        {
            html = CardRenderer.Render(header, [], null, live: false).Replace("</article>", $"<div class=\"flow-card-error\">{CardRenderer.Escape($"The card could not be rendered: {e.GetType().Name}: {e.Message}")}</div></article>", StringComparison.Ordinal);
        }
        try
        {
            store.WriteCard(attemptDir, html);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"The card of {task} could not be stored: {e.Message}");
        }
    }

    private static string? Preview(FlowDatastore store, ArtifactRef reference)
    {
        if (reference.Size > CardPreviewBytes || reference.Encoding is not (ArtifactCodec.Text or ArtifactCodec.Json))
        {
            return null;
        }
        try
        {
            return System.Text.Encoding.UTF8.GetString(store.Blobs.Get(reference.Sha));
        }
        catch (BlobCorruptException)
        {
            return "(unreadable)";
        }
    }

    /// <summary>An included file read as a stream from its blob, never loaded whole.</summary>
    private static IncludedFile IncludedFileOf(FlowDatastore store, ArtifactRef reference, string? name) =>
        reference.Size == 0 && name is null ? IncludedFile.Empty : new IncludedFile(name, reference.Size, () => store.Blobs.OpenRead(reference.Sha), sha: reference.Sha);

    /// <summary>One finished input task of this task: its path and its successful attempt.</summary>
    private sealed record InputTask(string Path, string Step, string TaskId, AttemptDoneRecord Done);

    private List<InputTask> ReadInputs(FlowDatastore store, TaskRequest request)
    {
        var result = new List<InputTask>(request.InputPaths.Count);
        foreach (var input in request.InputPaths)
        {
            var parts = input.Split('/');
            if (parts.Length != 3)
            {
                throw new FlowException($"Malformed input path '{input}'; expected run/Step/task.", ExitCodes.Failure);
            }
            // A task with one input shares it with its siblings (every item of a foreach has the same parent), and a
            // succeeded attempt is final: the worker reads it once. A join's many inputs are each read by it alone.
            var key = request.InputPaths.Count == 1 ? $"{store.Root}\n{request.Flow}/{input}" : null;
            if (key is null || !_inputs.TryGetValue(key, out var done))
            {
                done = LatestAttemptIfSucceeded(store, request.Flow, parts[0], parts[1], parts[2])
                    ?? throw new FlowException($"Input task {request.Flow}/{input} has no successful attempt.", ExitCodes.Failure);
                if (key is not null)
                {
                    if (_inputs.Count >= MaxCachedInputs)
                    {
                        _inputs.Clear();
                    }
                    _inputs[key] = done;
                }
            }
            result.Add(new InputTask(input, parts[1], parts[2], done));
        }
        return result;
    }

    /// <summary>
    /// The task's frames and loop pass, derived from its inputs alone (so any process can run it): a join removes
    /// the top frame its inputs share; the first task of a branch or item adds one; any other task keeps its parent's.
    /// </summary>
    private (IReadOnlyList<FrameRecord> Frames, int Iteration) Locate(FlowDatastore store, FlowDefinition definition, GraphStep step, TaskRequest request, List<InputTask> inputs)
    {
        if (inputs.Count == 0)
        {
            return ([], 0);
        }
        if (step.IsJoin)
        {
            var first = inputs[0].Done.Position;
            if (first.Count == 0)
            {
                throw new FlowException($"Join {step.Name} was given {inputs[0].Path}, which is not inside a split or foreach.", ExitCodes.Failure);
            }
            var top = first[^1];
            var seen = new bool[top.Count];
            foreach (var input in inputs)
            {
                var frames = input.Done.Position;
                if (frames.Count != first.Count || !frames.Take(frames.Count - 1).SequenceEqual(first.Take(first.Count - 1))
                    || frames[^1].Step != top.Step || frames[^1].Task != top.Task || frames[^1].Index >= top.Count || seen[frames[^1].Index])
                {
                    throw new FlowException($"Join {step.Name} was given inputs of different splits ({inputs[0].Path} and {input.Path}); its inputs must be the branches of one split.", ExitCodes.Failure);
                }
                seen[frames[^1].Index] = true;
            }
            if (inputs.Count != top.Count)
            {
                throw new FlowException($"Join {step.Name} needs all {top.Count} branches of {top.Step} but was given {inputs.Count}.", ExitCodes.Failure);
            }
            return ([.. first.Take(first.Count - 1)], 0);
        }
        var parent = inputs[0];
        var parentStep = definition.Graph.FindStep(parent.Step);
        if (parentStep?.Kind is "split" or "foreach")
        {
            var count = parentStep.Kind == "split" ? parent.Done.Next.Count : parent.Done.ForEach?.Count ?? 0;
            if (request.SplitIndex is not { } index || index < 0 || index >= count)
            {
                throw new FlowException(
                    $"Task {step.Name}/{request.TaskId} follows the {parentStep.Kind} {parent.Step}, so it needs a split index from 0 to {count - 1} (--split-index).", ExitCodes.Usage);
            }
            var frame = parentStep.Kind == "split"
                ? new FrameRecord(FrameRecord.Split, parent.Step, parent.TaskId, index, count)
                : new FrameRecord(FrameRecord.ForEach, parent.Step, parent.TaskId, index, count, ReadItems(store, parent.Done.ForEach!.Items)[index]);
            return ([.. parent.Done.Position, frame], 0);
        }
        return (parent.Done.Position, parent.Step == step.Name ? parent.Done.Iteration + 1 : 0);
    }

    private ForEachItems ReadItems(FlowDatastore store, string sha) =>
        _cache.Parsed(sha, () => Json.Parse<ForEachItems>(_cache.Get(store, sha)));

    private static FlowSpec InputFlow(
        FlowDefinition definition,
        Dictionary<string, object?> parameters,
        InputTask input,
        Func<string, ArtifactRef, Type, object?> load,
        Func<FrameRecord, object?> loadItem,
        IReadOnlySet<string> parameterNames)
    {
        var flow = definition.Create(new ParameterValues(parameters));
        flow.Artifacts = new ArtifactScope(input.Done.Artifacts, load, $"input {input.Path}", readOnly: true, fixedNames: parameterNames);
        flow.Position = new TaskPosition(input.Step, input.Done.Position, input.Done.Iteration, loadItem);
        return flow;
    }

    /// <summary>Stores each item of a foreach's collection as its own blob, and the list of them.</summary>
    /// <remarks>A collection wider than <paramref name="maxNumSplits"/> is refused before a single item is stored.</remarks>
    private static ForEachRecord FanOut(FlowDatastore store, FlowDefinition definition, FlowSpec flow, GraphStep step, int maxNumSplits)
    {
        if (!definition.ForEach.TryGetValue(step.Name, out var forEach))
        {
            throw new FlowException($"Step {step.Name} is a foreach, but this build has no fan-out for it; rebuild the project.");
        }
        if (forEach.Collection(flow) is not System.Collections.IEnumerable collection)
        {
            throw new FlowException($"Step {step.Name} fans out over {forEach.Artifact}, which is null; assign a collection before Next(..., forEach: nameof({forEach.Artifact})).");
        }
        if (collection is System.Collections.ICollection { Count: var count } && count > maxNumSplits)
        {
            throw new RunLimitException($"step {step.Name} fans out over {count} items of {forEach.Artifact}, more than --max-num-splits {maxNumSplits}; raise the limit with --max-num-splits {count}");
        }
        var items = new List<(string, long, string)>();
        foreach (var item in collection)
        {
            if (items.Count == maxNumSplits)
            {
                throw new RunLimitException($"step {step.Name} fans out over more than {maxNumSplits} items of {forEach.Artifact} (--max-num-splits {maxNumSplits}); raise the limit with --max-num-splits");
            }
            ArtifactRef stored;
            try
            {
                stored = ArtifactCodec.Store(store.Blobs, item, forEach.ElementType);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not IOException)
            {
                throw new FlowException($"Item {items.Count} of {forEach.Artifact} in step {step.Name} cannot be serialized: {e.Message}");
            }
            items.Add((stored.Sha, stored.Size, stored.Encoding));
        }
        if (items.Count == 0)
        {
            throw new FlowException($"Step {step.Name} fans out over {forEach.Artifact}, which is empty; a foreach needs at least one item (choose another path with a conditional Next when there is none).");
        }
        var list = store.Blobs.Put(Json.Bytes(new ForEachItems(forEach.ElementType.FullName ?? forEach.ElementType.Name, items)));
        return new ForEachRecord(forEach.Artifact, items.Count, list);
    }

    private static AttemptDoneRecord Failed(ErrorRecord error) =>
        new(AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], error);

    private static AttemptDoneRecord Finish(FlowDatastore store, string attemptDir, AttemptDoneRecord done)
    {
        // The first marker wins: when one exists already, that is the attempt's outcome.
        return store.FinishAttempt(attemptDir, done) ? done : store.ReadAttemptDone(attemptDir) ?? done;
    }

    /// <summary>The newest finalized attempt when it succeeded; null when it failed (an earlier success is not used) or none is finalized.</summary>
    internal static AttemptDoneRecord? LatestAttemptIfSucceeded(FlowDatastore store, string flow, string runId, string step, string taskId)
    {
        var attempts = store.ListAttempts(flow, runId, step, taskId);
        for (var i = attempts.Count - 1; i >= 0; i--)
        {
            var done = store.ReadAttemptDone(store.AttemptDir(flow, runId, step, taskId, attempts[i]));
            if (done is not null)
            {
                return done.IsSuccess ? done : null;
            }
        }
        return null;
    }

    private object? LoadArtifact(FlowDatastore store, string name, ArtifactRef reference, Type type, string task)
    {
        try
        {
            // Small values come through the worker's cache of verified blobs; large ones stream from the datastore.
            return reference.Size <= BlobCache.MaxEntryBytes && type != typeof(Stream) && type != typeof(IncludedFile)
                ? ArtifactCodec.Deserialize(_cache.Get(store, reference.Sha), reference.Encoding, type)
                : ArtifactCodec.Load(store.Blobs, reference, type);
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"Artifact '{name}' of {task} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
        catch (MissingSerializerException e)
        {
            throw new FlowException($"Artifact '{name}' of {task} cannot be read: {e.Message}.", ExitCodes.Failure);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidCastException)
        {
            throw new FlowException($"Artifact '{name}' of {task} (stored as {reference.Type}) cannot be read as {type.FullName}: {e.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>Artifacts at least this large report how long storing them took (on the task's stderr).</summary>
    private const long LargeArtifact = 64L << 20;

    private static void Persist(FlowDatastore store, ArtifactScope scope, Dictionary<string, ArtifactRef> artifacts, string step)
    {
        foreach (var (name, slot) in scope.Touched)
        {
            if (!slot.IsSet && !slot.MayHaveChanged)
            {
                continue;
            }
            ArtifactRef stored;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                stored = ArtifactCodec.Store(store.Blobs, slot.Value, slot.Type);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not IOException and not FlowException)
            {
                throw new FlowException(
                    $"Artifact '{name}' of type {slot.Type.FullName} in step {step} cannot be serialized: {e.Message} Use a JSON-serializable type (public properties and constructor), byte[], string, an array of primitives, a Stream, or register an IArtifactSerializer<T> for it.",
                    ExitCodes.Failure);
            }
            finally
            {
                // A Stream artifact is read to its end when stored, then closed: the task is over.
                (slot.Value as Stream)?.Dispose();
            }
            if (stored.Size >= LargeArtifact)
            {
                // Large values say what storing them cost, in the task's own log: is it the step or the data?
                var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"flow: stored artifact {name} ({stored.Size / (1024.0 * 1024):0.0} MiB, {stored.Encoding}) in {seconds:0.000} s ({stored.Size / (1024.0 * 1024) / Math.Max(seconds, 1e-6):0} MiB/s)"));
            }
            if (slot.LoadedFrom is { } loaded && loaded.Sha == stored.Sha)
            {
                continue;
            }
            artifacts[name] = stored;
        }
    }

    private static ErrorRecord? CheckTransition(FlowSpec flow, GraphStep step)
    {
        if (step.Kind == "end")
        {
            return flow.NextCalls == 0 ? null
                : new ErrorRecord("TransitionError", $"Step {step.Name} called Next, but End is the last step.", null);
        }
        if (flow.NextCalls != 1)
        {
            return new ErrorRecord(
                "TransitionError",
                flow.NextCalls == 0 ? $"Step {step.Name} returned without calling Next(...)." : $"Step {step.Name} called Next {flow.NextCalls} times; call it exactly once.",
                null);
        }
        var taken = string.Join(", ", flow.NextTargets);
        var expected = string.Join(", ", step.Next);
        var matches = step.Kind == "switch"
            ? flow.NextTargets.Count == 1 && step.Next.Contains(flow.NextTargets[0]) && flow.NextForEach is null
            : taken == expected && flow.NextForEach == step.ForEach;
        if (!matches)
        {
            var shape = step.Kind == "switch" ? $"one of Next({string.Join("), Next(", step.Next)})" : $"Next({expected}{(step.ForEach is null ? "" : $", forEach: nameof({step.ForEach})")})";
            var took = $"Next({taken}{(flow.NextForEach is null ? "" : $", forEach: \"{flow.NextForEach}\"")})";
            return new ErrorRecord("TransitionError", $"Step {step.Name} called {took}, but the graph built from the source says {shape}; rebuild the project.", null);
        }
        return null;
    }

    private static ErrorRecord Describe(Exception e) => new(e.GetType().FullName ?? e.GetType().Name, e.Message, UserTrace(e));

    /// <summary>The exception as the user wrote it: their frames, without the SDK's own frames below them.</summary>
    internal static string UserTrace(Exception e)
    {
        var lines = e.ToString().Split('\n').Select(l => l.TrimEnd('\r'));
        return string.Join(Environment.NewLine, lines.Where(l =>
            !l.TrimStart().StartsWith("at Flow.Sdk.", StringComparison.Ordinal)
            && !l.Contains(".Flow.g.cs:", StringComparison.Ordinal)
            && !l.Contains("--- End of stack trace from previous location ---", StringComparison.Ordinal)));
    }
}

/// <summary>A task broke a limit of its run (<c>--max-num-splits</c>): a failure no retry can mend.</summary>
internal sealed class RunLimitException(string message) : FlowException(message, ExitCodes.Failure);
