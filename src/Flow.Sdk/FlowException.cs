namespace Flow.Sdk;

/// <summary>
/// An error the user can act on: one line that says what went wrong, where, and how to fix it.
/// </summary>
/// <remarks>
/// Commands print <see cref="Exception.Message"/> alone (the stack trace only with <c>--verbose</c>) and exit
/// with <see cref="ExitCode"/>: 2 for bad usage or input (nothing was written), 1 for a failed flow or a
/// damaged datastore.
/// </remarks>
public class FlowException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="FlowException"/> class.</summary>
    /// <param name="message">One line: what, where, how to fix.</param>
    /// <param name="exitCode">The process exit code the error maps to.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public FlowException(string message, int exitCode = ExitCodes.Usage, Exception? inner = null)
        : base(message, inner) => ExitCode = exitCode;

    /// <summary>Gets the process exit code this error maps to.</summary>
    public int ExitCode { get; }
}

/// <summary>The exit codes of every dotnet flow command.</summary>
public static class ExitCodes
{
    /// <summary>The command succeeded.</summary>
    public const int Success = 0;

    /// <summary>The flow failed or did not build, or the datastore is damaged.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or input; nothing was written.</summary>
    public const int Usage = 2;
}
