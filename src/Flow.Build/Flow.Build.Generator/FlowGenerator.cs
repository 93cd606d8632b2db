using System;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Flow.Build.Generator;

/// <summary>
/// Reads every flow of a project from its source and, without running any of it: reports an invalid graph as a
/// compile error (FLOW0xxx) at file and line, implements the artifact properties, and generates the flow's
/// definition, the project's entry point and the graph metadata the snapshot task embeds.
/// </summary>
/// <example>
/// <code>
/// public partial class HelloFlow : FlowSpec                     // input
/// {
///     public partial string Message { get; set; }
///     [Step] public void Start() { Message = "hi"; Next(End); }
///     [Step] public void End() { }
/// }
/// // output: public partial string Message { get => GetArtifact&lt;string&gt;("Message"); set => ... }
/// //         FlowDefinition__ (graph JSON, factories, step invokers), FlowEntryPoint.Main, [assembly: AssemblyMetadata("Flow.Graph", ...)]
/// </code>
/// </example>
/// <remarks>
/// The pipeline is incremental per flow. Roslyn reruns the transform of every [Step] method on each compilation change
/// (it hands the transform a new semantic model), so each flow is read again, once, at its first [Step] method; that
/// keeps a partial flow's model fresh whichever of its files changed. What follows the reading compares values: a flow
/// whose model came out equal is neither emitted nor reported again, and the entry point and the checks across flows
/// rerun only when the small summary of some flow changes.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class FlowGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var projectDir = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
            o.GlobalOptions.TryGetValue("build_property.MSBuildProjectDirectory", out var dir) ? dir : null)
            .WithTrackingName(TrackingNames.ProjectDirectory);
        var emitMain = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
            !(o.GlobalOptions.TryGetValue("build_property.FlowGenerateEntryPoint", out var value) && string.Equals(value, "false", StringComparison.OrdinalIgnoreCase)))
            .WithTrackingName(TrackingNames.EmitEntryPoint);

        var sites = context.SyntaxProvider.ForAttributeWithMetadataName(
            FlowReader.StepAttributeName,
            static (node, _) => node is MethodDeclarationSyntax,
            static (ctx, cancel) => Site(ctx, cancel))
            .WithTrackingName(TrackingNames.StepMethods);

        var misplaced = sites.Where(static s => s.Outside is not null).Select(static (s, _) => s.Outside!)
            .WithTrackingName(TrackingNames.StepsOutsideFlows);
        context.RegisterSourceOutput(misplaced, static (spc, s) =>
            spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.StepOutsideFlow, s.Where.ToLocation(), s.Method, s.Type)));

        // The project folder only makes the files relative; it joins each flow after the reading.
        var flows = sites.Where(static s => s.Flow is not null).Select(static (s, _) => s.Flow!)
            .WithTrackingName(TrackingNames.FlowModels)
            .Combine(projectDir)
            .Select(static (input, _) => FlowReader.InProject(input.Left, input.Right))
            .WithTrackingName(TrackingNames.Flows);

        context.RegisterSourceOutput(flows, static (spc, flow) =>
        {
            foreach (var d in flow.Diagnostics)
            {
                var descriptor = typeof(Diagnostics).GetFields().Select(f => f.GetValue(null)).OfType<DiagnosticDescriptor>().First(x => x.Id == d.Id);
                spc.ReportDiagnostic(Diagnostic.Create(descriptor, d.Where.ToLocation(), d.Args.Cast<object>().ToArray()));
            }
            if (flow.CanEmitArtifacts)
            {
                spc.AddSource(flow.FullName.Replace("global::", string.Empty) + ".Flow.g.cs", FlowEmitter.FlowSource(flow));
            }
        });

        // Ordered by metadata name, as the flows always were: the entry point lists them so, and of two flows with one
        // class name the first keeps it.
        var allFlows = flows.Select(static (flow, _) => FlowSummary.Of(flow))
            .WithTrackingName(TrackingNames.FlowSummaries)
            .Collect()
            .Select(static (summaries, _) => new EquatableArray<FlowSummary>(summaries.OrderBy(s => s.MetadataName, StringComparer.Ordinal)))
            .WithTrackingName(TrackingNames.AllFlows);

        context.RegisterSourceOutput(allFlows.Combine(emitMain), static (spc, input) =>
        {
            var (summaries, main) = input;
            var clashes = summaries.GroupBy(s => s.ClassName).Where(g => g.Count() > 1).ToList();
            foreach (var clash in clashes)
            {
                foreach (var flow in clash.Skip(1))
                {
                    spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.DuplicateFlowName, flow.Where.ToLocation(), clash.First().FullName, flow.FullName));
                }
            }
            if (summaries.Count > 0 && summaries.All(s => !s.HasErrors) && clashes.Count == 0)
            {
                spc.AddSource("Flow.Sdk.Generated.FlowEntryPoint.g.cs", FlowEmitter.EntryPoint(summaries.ToList(), main));
            }
        });
    }

    /// <summary>
    /// Reads what one [Step] method tells: the whole flow at the flow's first step, the method when its class is no
    /// flow, else only the class's name.
    /// </summary>
    private static StepSite Site(GeneratorAttributeSyntaxContext ctx, CancellationToken cancel)
    {
        if (ctx.TargetSymbol.ContainingType is not { } type)
        {
            return new StepSite(string.Empty, null, null);
        }
        var name = FlowReader.MetadataName(type);
        if (!FlowReader.DerivesFromFlowSpec(type))
        {
            return new StepSite(name, null, new StepOutsideFlow(ctx.TargetSymbol.Name, name, SourceSpot.From(ctx.TargetSymbol.Locations[0])));
        }
        return FlowReader.IsReadAt(type, ctx.TargetNode)
            ? new StepSite(name, FlowReader.Read(type, ctx.SemanticModel.Compilation, cancel), null)
            : new StepSite(name, null, null);
    }
}

/// <summary>The names of the generator's pipeline steps, as the driver reports them when it tracks steps.</summary>
internal static class TrackingNames
{
    /// <summary>One value per [Step] method (<see cref="StepSite"/>): where the flows are read.</summary>
    public const string StepMethods = "StepMethods";

    /// <summary>The [Step] methods of classes that are not flows.</summary>
    public const string StepsOutsideFlows = "StepsOutsideFlows";

    /// <summary>One model per flow, as read.</summary>
    public const string FlowModels = "FlowModels";

    /// <summary>One model per flow, with files relative to the project: what a flow's source and diagnostics come from.</summary>
    public const string Flows = "Flows";

    /// <summary>One summary per flow.</summary>
    public const string FlowSummaries = "FlowSummaries";

    /// <summary>The summaries of all flows: what the entry point and the checks across flows come from.</summary>
    public const string AllFlows = "AllFlows";

    /// <summary>The project folder (build_property.MSBuildProjectDirectory).</summary>
    public const string ProjectDirectory = "ProjectDirectory";

    /// <summary>Whether to emit Main (build_property.FlowGenerateEntryPoint).</summary>
    public const string EmitEntryPoint = "EmitEntryPoint";
}
