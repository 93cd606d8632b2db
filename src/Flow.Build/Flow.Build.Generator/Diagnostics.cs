using Microsoft.CodeAnalysis;

namespace Flow.Build.Generator;

/// <summary>The build errors of a flow's definition. Each id is documented in docs/diagnostics.md.</summary>
internal static class Diagnostics
{
    private const string Category = "Flow";

    private static DiagnosticDescriptor Error(string id, string title, string format) =>
        new(id, title, format, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: "docs/diagnostics.md#" + id.ToLowerInvariant());

    public static readonly DiagnosticDescriptor NotPartial = Error("FLOW0001", "Flow class must be partial", "Flow {0} must be a top-level 'partial' class so its artifacts can be implemented");
    public static readonly DiagnosticDescriptor NoStart = Error("FLOW0002", "Missing Start step", "Flow {0} has no [Step] method named Start; add one as the entry of the flow");
    public static readonly DiagnosticDescriptor NoEnd = Error("FLOW0003", "Missing End step", "Flow {0} has no [Step] method named End; add one as the exit of the flow");
    public static readonly DiagnosticDescriptor NoNext = Error("FLOW0004", "Step without Next", "Step {0} does not call Next(...); every step but End must say which step follows");
    public static readonly DiagnosticDescriptor EndCallsNext = Error("FLOW0005", "End calls Next", "End is the last step and must not call Next(...)");
    public static readonly DiagnosticDescriptor NotAStep = Error("FLOW0006", "Next target is not a step", "Next({0}) names a method that is not a [Step] of {1}; mark it [Step] or name a step");
    public static readonly DiagnosticDescriptor Unreachable = Error("FLOW0007", "Unreachable step", "Step {0} is never reached from Start; call Next({0}) from a step, or remove it");
    public static readonly DiagnosticDescriptor Cycle = Error("FLOW0008", "Cycle in the graph", "Next({0}) closes a cycle ({1}); a flow's graph must not loop back");
    public static readonly DiagnosticDescriptor BadNextShape = Error("FLOW0009", "Next call of unsupported form", "{0}");
    public static readonly DiagnosticDescriptor BadStepSignature = Error("FLOW0010", "Step signature", "Step {0} {1}");
    public static readonly DiagnosticDescriptor NotAnArtifact = Error("FLOW0011", "Public state that would not be saved", "{0} '{1}' is public and settable but is not an artifact: declare it 'public partial {2} {1} {{ get; set; }}' to keep it, or make it private");
    public static readonly DiagnosticDescriptor ReservedParameter = Error("FLOW0012", "Parameter named like a built-in option", "Parameter --{0} clashes with the built-in option --{0}; give it another name with [Parameter(\"name\")]");
    public static readonly DiagnosticDescriptor ParameterNotInitOnly = Error("FLOW0013", "Parameter must be init-only", "Parameter {0} must be declared '{{ get; init; }}': parameters cannot change during a run");
    public static readonly DiagnosticDescriptor StartHasIncoming = Error("FLOW0014", "Start is a Next target", "Next(Start) is not allowed: Start is the entry of the flow");
    public static readonly DiagnosticDescriptor DuplicateParameter = Error("FLOW0015", "Duplicate parameter name", "Parameters {0} and {1} both use the option --{2}");
    public static readonly DiagnosticDescriptor StepOutsideFlow = Error("FLOW0016", "Step outside a flow", "[Step] method {0} is in {1}, which does not derive from Flow.Sdk.FlowSpec");
    public static readonly DiagnosticDescriptor NotConcrete = Error("FLOW0017", "Flow class must be concrete", "Flow {0} must be a non-abstract, non-generic class with a public parameterless constructor");
    public static readonly DiagnosticDescriptor DuplicateFlowName = Error("FLOW0018", "Two flows with one name", "Flows {0} and {1} have the same name; runs are stored by flow name, so rename one");
    public static readonly DiagnosticDescriptor OverloadedStep = Error("FLOW0019", "Overloaded step", "Step {0} is declared more than once; steps are named by their method name, so give each its own name");
    public static readonly DiagnosticDescriptor NotYetSupported = Error("FLOW0099", "Graph shape not supported yet", "Step {0} is a {1}; this version of dotnet flow runs linear flows only (splits, joins, foreach and switches come in the next version)");
}
