using System.Text.Json;
using Flow.Sdk.Datastore;

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
/// <param name="SplitIndex">The branch or item index, for the first task of a branch of a split or foreach.</param>
/// <param name="CatchFailure">This is the step's last attempt and it has <c>[Catch]</c>: an exception is caught.</param>
/// <param name="Caught">An earlier attempt's process died or timed out and the step has <c>[Catch]</c>: do not run the
/// step, record this failure as caught and continue.</param>
internal sealed record TaskRequest(
    string Datastore,
    string Flow,
    string RunId,
    string Step,
    string TaskId,
    int Attempt,
    IReadOnlyList<string> InputPaths,
    int? SplitIndex = null,
    bool CatchFailure = false,
    ErrorRecord? Caught = null) : IJsonRecord<TaskRequest>
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
        if (SplitIndex is { } index)
        {
            json.WriteNumber("splitIndex", index);
        }
        if (CatchFailure)
        {
            json.WriteBoolean("catchFailure", true);
        }
        if (Caught is not null)
        {
            json.WritePropertyName("caught");
            Caught.Write(json);
        }
        json.WriteEndObject();
    }

    public static TaskRequest Read(JsonElement json) => new(
        json.Text("datastore"),
        json.Text("flow"),
        json.Text("runId"),
        json.Text("step"),
        json.Text("taskId"),
        json.GetProperty("attempt").GetInt32(),
        json.Texts("inputPaths"),
        json.TryGetProperty("splitIndex", out var index) && index.ValueKind == JsonValueKind.Number ? index.GetInt32() : null,
        json.TryGetProperty("catchFailure", out var catchFailure) && catchFailure.ValueKind == JsonValueKind.True,
        json.TryGetProperty("caught", out var caught) && caught.ValueKind == JsonValueKind.Object ? ErrorRecord.Read(caught) : null);
}
