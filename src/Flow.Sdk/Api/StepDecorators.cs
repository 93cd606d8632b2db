namespace Flow.Sdk;

/// <summary>Runs a failed step again, up to <see cref="Times"/> more attempts (attempts are numbered from 0).</summary>
/// <remarks><c>dotnet flow run --with retry</c> gives every step without one <c>[Retry]</c> with the default.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RetryAttribute : Attribute
{
    /// <summary>Gets or sets how many more attempts a failed task gets (default 3; at most 5, for 6 attempts in all).</summary>
    public int Times { get; set; } = 3;
}

/// <summary>
/// Lets the flow continue when the step still fails after its retries: the failure is stored in the artifact
/// <see cref="Var"/> (a <see cref="StepError"/>) and the flow goes on to the step's successor.
/// </summary>
/// <remarks>Only on a step with one successor. A caught failure is recorded with the task.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CatchAttribute : Attribute
{
    /// <summary>Gets or sets the artifact (a <c>public partial StepError? X { get; set; }</c>) that receives the failure, as <c>nameof(X)</c>.</summary>
    public string? Var { get; set; }
}

/// <summary>Stops a task that runs longer than the given time; it then fails (and is retried or caught).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TimeoutAttribute : Attribute
{
    /// <summary>Gets or sets seconds (added to minutes and hours).</summary>
    public int Seconds { get; set; }

    /// <summary>Gets or sets minutes.</summary>
    public int Minutes { get; set; }

    /// <summary>Gets or sets hours.</summary>
    public int Hours { get; set; }
}

/// <summary>A failure a <see cref="CatchAttribute"/> caught: the exception's type, message and stack trace.</summary>
/// <param name="Type">The exception's full type name (or <c>Timeout</c>, <c>ProcessExited</c>).</param>
/// <param name="Message">The message.</param>
/// <param name="StackTrace">The user's frames, when there was an exception.</param>
public sealed record StepError(string Type, string Message, string? StackTrace);

/// <summary>Sets an environment variable for the step's tasks, which then run in a process of their own.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class EnvironmentAttribute(string name, string value) : Attribute
{
    /// <summary>Gets the variable's name.</summary>
    public string Name { get; } = name;

    /// <summary>Gets the variable's value.</summary>
    public string Value { get; } = value;
}

/// <summary>
/// Runs the step's tasks (on the flow class: every step's, except <see cref="LocalAttribute"/> ones) as Slurm jobs
/// (docs/slurm.md). <c>dotnet flow run --with slurm</c> does the same for a whole run without changing the code.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SlurmAttribute : Attribute
{
    /// <summary>Gets or sets the partition (<c>sbatch --partition</c>); the cluster's default when not set.</summary>
    public string? Partition { get; set; }

    /// <summary>Gets or sets the job's time limit as Slurm writes it (<c>30</c> minutes, <c>2:00:00</c>, <c>1-12</c>).</summary>
    public string? Time { get; set; }

    /// <summary>Gets or sets the account the job is charged to (<c>sbatch --account</c>).</summary>
    public string? Account { get; set; }
}

/// <summary>
/// What one task of the step needs: on Slurm the job's request (<c>--cpus-per-task</c>, <c>--mem</c>,
/// <c>--gres=gpu:N</c>); locally a note only.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class ResourcesAttribute : Attribute
{
    /// <summary>Gets or sets the cores a task uses (default 1).</summary>
    public int Cpu { get; set; }

    /// <summary>Gets or sets the memory a task may use, in MiB (default: the partition's).</summary>
    public int MemoryMb { get; set; }

    /// <summary>Gets or sets the GPUs a task uses (default 0).</summary>
    public int Gpu { get; set; }
}

/// <summary>Keeps the step on the machine that runs the flow, even with <c>--with slurm</c> or <c>[Slurm]</c> on the flow.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class LocalAttribute : Attribute;
