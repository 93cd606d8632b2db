using System.IO.Abstractions;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The replayable unit of work: everything a task needs is named here, so any process that can read the
/// datastore can execute it from the snapshot (docs/task-contract.md).
/// </summary>
/// <param name="Datastore">The <c>.flow</c> directory.</param>
/// <param name="Flow">The flow name.</param>
/// <param name="RunId">The run.</param>
/// <param name="Step">The step to execute.</param>
/// <param name="TaskId">The task id, unique within the run.</param>
/// <param name="Attempt">The attempt number, from 0.</param>
/// <param name="InputPaths">The tasks whose outputs this task reads, as <c>run/Step/task</c>; none for Start.</param>
internal sealed record TaskRequest(
    string Datastore,
    string Flow,
    string RunId,
    string Step,
    string TaskId,
    int Attempt,
    IReadOnlyList<string> InputPaths) : IJsonRecord<TaskRequest>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("datastore", Datastore);
        json.WriteString("flow", Flow);
        json.WriteString("runId", RunId);
        json.WriteString("step", Step);
        json.WriteString("taskId", TaskId);
        json.WriteNumber("attempt", Attempt);
        json.WriteTexts("inputPaths", InputPaths);
        json.WriteEndObject();
    }

    public static TaskRequest Read(JsonElement json) => new(
        json.Text("datastore"),
        json.Text("flow"),
        json.Text("runId"),
        json.Text("step"),
        json.Text("taskId"),
        json.GetProperty("attempt").GetInt32(),
        json.Texts("inputPaths"));
}

/// <summary>Executes one task attempt in the current process and finalizes it in the datastore.</summary>
internal sealed class TaskRunner(IFileSystem fs, IReadOnlyDictionary<string, FlowDefinition> flows)
{
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromSeconds(5);

    /// <summary>Runs the task; never throws for a failure of the user's code (it is recorded and returned).</summary>
    public async Task<AttemptDoneRecord> RunAsync(TaskRequest request)
    {
        var store = FlowDatastore.Open(fs, request.Datastore, create: false);
        if (store.ReadRun(request.Flow, request.RunId) is null)
        {
            throw new FlowException($"No run {request.Flow}/{request.RunId} in {store.Root}; a task runs only inside a run that exists.");
        }
        var attemptDir = store.AttemptDir(request.Flow, request.RunId, request.Step, request.TaskId, request.Attempt);
        if (store.ReadAttemptDone(attemptDir) is { } finished)
        {
            // An attempt is immutable once finalized: running it again would change nothing a reader trusts.
            return finished;
        }
        try
        {
            return await RunAttemptAsync(store, attemptDir, request);
        }
        catch (FlowException e)
        {
            // A damaged input or run record: the attempt is finalized as failed, never left half-written.
            await Console.Error.WriteLineAsync(e.Message);
            return Finish(store, attemptDir, Failed(new ErrorRecord("FlowError", e.Message, null)));
        }
    }

    private async Task<AttemptDoneRecord> RunAttemptAsync(FlowDatastore store, string attemptDir, TaskRequest request)
    {
        if (store.ReadAttemptStart(attemptDir) is null)
        {
            store.StartAttempt(attemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, request.InputPaths, Environment.ProcessId));
        }
        var heartbeatPath = fs.Path.Combine(attemptDir, "heartbeat");
        using var heartbeat = new Timer(_ => Touch(heartbeatPath), null, TimeSpan.Zero, s_heartbeat);

        if (!flows.TryGetValue(request.Flow, out var definition))
        {
            return Finish(store, attemptDir, Failed(new ErrorRecord("FlowNotFound", $"This snapshot has no flow named {request.Flow}.", null)));
        }
        var run = store.ReadRun(request.Flow, request.RunId)
            ?? throw new FlowException($"Run {request.Flow}/{request.RunId} has no run.json.", ExitCodes.Failure);
        var graphStep = definition.Graph.FindStep(request.Step);
        if (graphStep is null || !definition.Steps.TryGetValue(graphStep.Name, out var invoker))
        {
            return Finish(store, attemptDir, Failed(new ErrorRecord("StepNotFound", $"Flow {request.Flow} has no step {request.Step}.", null)));
        }

        var where = $"step {graphStep.Name}";
        var inherited = Inherit(store, request, run);
        object? Load(string name, ArtifactRef reference, Type type) => LoadArtifact(store, name, reference, type, $"{request.Flow}/{request.RunId}/{request.Step}/{request.TaskId}");

        ErrorRecord? error = null;
        FlowSpec? flow = null;
        using (Current.Enter(new TaskIdentity(request.Flow, request.RunId, graphStep.Name, request.TaskId, request.Attempt, run.OriginRunId)))
        {
            try
            {
                var values = definition.Parameters.ToDictionary(
                    p => p.Name,
                    p => run.Parameters.TryGetValue(p.Name, out var r) ? Load(p.Name, r, p.Type) : p.Getter(definition.CreateDefault()));
                flow = definition.Create(new ParameterValues(values));
                flow.Artifacts = new ArtifactScope(inherited, Load, where);
                await invoker(flow);
                error = CheckTransition(flow, graphStep);
            }
            catch (Exception e)
            {
                error = Describe(e);
                await Console.Error.WriteLineAsync($"{where} failed: {UserTrace(e)}");
            }
        }

        var artifacts = new Dictionary<string, ArtifactRef>(inherited, StringComparer.Ordinal);
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
        var done = new AttemptDoneRecord(
            error is null ? AttemptDoneRecord.Succeeded : AttemptDoneRecord.Failed,
            DateTimeOffset.UtcNow,
            artifacts,
            flow?.NextTargets.ToArray() ?? [],
            error);
        return Finish(store, attemptDir, done);
    }

    private static AttemptDoneRecord Failed(ErrorRecord error) =>
        new(AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], error);

    private static AttemptDoneRecord Finish(FlowDatastore store, string attemptDir, AttemptDoneRecord done)
    {
        // The first marker wins: when one exists already, that is the attempt's outcome.
        return store.FinishAttempt(attemptDir, done) ? done : store.ReadAttemptDone(attemptDir) ?? done;
    }

    private void Touch(string path)
    {
        try
        {
            fs.File.WriteAllBytes(path, []);
        }
        catch (IOException)
        {
            // A missed heartbeat is harmless; the next one follows in a few seconds.
        }
    }

    /// <summary>Start inherits the parameters; a linear step inherits every artifact of its parent by reference.</summary>
    private static Dictionary<string, ArtifactRef> Inherit(FlowDatastore store, TaskRequest request, RunRecord run)
    {
        if (request.InputPaths.Count == 0)
        {
            return new Dictionary<string, ArtifactRef>(run.Parameters, StringComparer.Ordinal);
        }
        var result = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        foreach (var input in request.InputPaths)
        {
            var parts = input.Split('/');
            if (parts.Length != 3)
            {
                throw new FlowException($"Malformed input path '{input}'; expected run/Step/task.", ExitCodes.Failure);
            }
            var done = LatestAttemptIfSucceeded(store, request.Flow, parts[0], parts[1], parts[2])
                ?? throw new FlowException($"Input task {request.Flow}/{input} has no successful attempt.", ExitCodes.Failure);
            foreach (var (name, reference) in done.Artifacts)
            {
                result[name] = reference;
            }
        }
        return result;
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

    private static object? LoadArtifact(FlowDatastore store, string name, ArtifactRef reference, Type type, string task)
    {
        byte[] bytes;
        try
        {
            bytes = store.Blobs.Get(reference.Sha);
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"Artifact '{name}' of {task} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
        try
        {
            return ArtifactCodec.Deserialize(bytes, reference.Encoding, type);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidCastException)
        {
            throw new FlowException($"Artifact '{name}' of {task} (stored as {reference.Type}) cannot be read as {type.FullName}: {e.Message}", ExitCodes.Failure);
        }
    }

    private static void Persist(FlowDatastore store, ArtifactScope scope, Dictionary<string, ArtifactRef> artifacts, string step)
    {
        foreach (var (name, slot) in scope.Touched)
        {
            if (!slot.IsSet && !slot.MayHaveChanged)
            {
                continue;
            }
            string encoding;
            byte[] bytes;
            try
            {
                (encoding, bytes) = ArtifactCodec.Serialize(slot.Value, slot.Type);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new FlowException(
                    $"Artifact '{name}' of type {slot.Type.FullName} in step {step} cannot be serialized: {e.Message} Use a JSON-serializable type (public properties and constructor), byte[], string or an array of primitives.",
                    ExitCodes.Failure);
            }
            var sha = BlobStore.Hash(bytes);
            if (slot.LoadedFrom is { } loaded && loaded.Sha == sha)
            {
                continue;
            }
            store.Blobs.Put(bytes);
            artifacts[name] = new ArtifactRef(sha, encoding, slot.Type.FullName ?? slot.Type.Name, bytes.LongLength);
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
        if (taken != expected || flow.NextForEach != step.ForEach)
        {
            return new ErrorRecord("TransitionError", $"Step {step.Name} called Next({taken}) but the graph built from the source says Next({expected}); rebuild the project.", null);
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
            && !l.Contains("--- End of stack trace from previous location ---", StringComparison.Ordinal)));
    }
}
