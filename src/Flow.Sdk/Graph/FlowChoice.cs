namespace Flow.Sdk.Graph;

/// <summary>Which of a project's flows a command means: shared by the flow executable, the tool and the client.</summary>
internal static class FlowChoice
{
    /// <summary>
    /// The flow named by <c>--flow</c> (matched exactly, else without regard to case), or the project's only flow;
    /// shared by the flow executable and the tool so that both answer alike.
    /// </summary>
    public static T Choose<T>(IReadOnlyList<T> flows, Func<T, string> nameOf, string? name)
    {
        var names = string.Join(", ", flows.Select(nameOf));
        if (name is not null)
        {
            return flows.FirstOrDefault(f => nameOf(f) == name)
                ?? flows.FirstOrDefault(f => string.Equals(nameOf(f), name, StringComparison.OrdinalIgnoreCase))
                ?? throw new FlowException($"No flow named {name} in this project; its flows are {names}.");
        }
        return flows.Count switch
        {
            1 => flows[0],
            0 => throw new FlowException("This project defines no flow: add a partial class deriving from FlowSpec with [Step] methods."),
            _ => throw new FlowException($"This project has several flows ({names}); choose one with --flow NAME."),
        };
    }
}
