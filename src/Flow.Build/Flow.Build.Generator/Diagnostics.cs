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
    public static readonly DiagnosticDescriptor Cycle = Error("FLOW0008", "Cycle in the graph", "Next({0}) closes a cycle ({1}); a flow's graph must not loop back, except a conditional step that targets itself");
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
    public static readonly DiagnosticDescriptor ReservedName = Error("FLOW0020", "Reserved name", "{0} {1} uses a name FlowSpec reserves ({2}); rename it");
    public static readonly DiagnosticDescriptor CaseClash = Error("FLOW0021", "Step names differ only in case", "Steps {0} and {1} differ only in case; steps are named without regard to case on the command line, so rename one");
    public static readonly DiagnosticDescriptor UnbalancedJoin = Error("FLOW0022", "Splits and joins do not balance", "{0}");
    public static readonly DiagnosticDescriptor OpenSplitAtEnd = Error("FLOW0023", "Open split at End", "The branches of {0} reach End without meeting in a join; add a join step taking Inputs<{1}> where they meet");
    public static readonly DiagnosticDescriptor JoinWithoutSplit = Error("FLOW0024", "Join without a split", "Step {0} takes Inputs, but no split or foreach is open where it is reached; remove the parameter, or split before it");
    public static readonly DiagnosticDescriptor StraightToJoin = Error("FLOW0025", "Split or foreach goes straight to its join", "Step {0} goes straight from its {1} to the join {2}; add at least one step between them");
    public static readonly DiagnosticDescriptor SwitchToJoin = Error("FLOW0026", "Conditional step goes straight to a join", "Conditional step {0} goes straight to the join {1}; add an unconditional step between them");
    public static readonly DiagnosticDescriptor MissingInputs = Error("FLOW0027", "Branches meet at a step that is not a join", "Branches {0} of {1} meet at {2}, which is not a join; declare it '{2}(Inputs<{3}> inputs)'");
    public static readonly DiagnosticDescriptor BadInputs = Error("FLOW0028", "Inputs on a step that cannot be a join", "Step {0} {1}");
    public static readonly DiagnosticDescriptor BadParameterType = Error("FLOW0030", "Parameter or included file of an unsupported form", "{0}");
    public static readonly DiagnosticDescriptor BadDecorator = Error("FLOW0031", "Retry, Catch or Timeout used wrongly", "{0}");
    public static readonly DiagnosticDescriptor ItemTypeMismatch = Error("FLOW0029", "Foreach item type does not match", "Step {0} receives the items of {1}, whose elements are {2}, but its parameter is {3}; declare it '{0}({2} {4})'");
}
