namespace Flow.Sdk;

/// <summary>
/// Marks a method of a <see cref="FlowSpec"/> as a step of the flow.
/// </summary>
/// <remarks>
/// A step is a <c>void</c> or <c>async Task</c> method. <c>Start</c> and <c>End</c> are the entry and exit steps;
/// every other step calls <see cref="FlowSpec.Next(Delegate)"/> exactly once on each path. The step's
/// <c>&lt;summary&gt;</c> documentation comment becomes its description in <c>dotnet flow show</c>.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class StepAttribute : Attribute
{
}
