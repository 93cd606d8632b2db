using System;
using System.Collections.Generic;
using System.Linq;
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
[Generator(LanguageNames.CSharp)]
public sealed class FlowGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var projectDir = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
            o.GlobalOptions.TryGetValue("build_property.MSBuildProjectDirectory", out var dir) ? dir : null);
        var emitMain = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
            !(o.GlobalOptions.TryGetValue("build_property.FlowGenerateEntryPoint", out var value) && string.Equals(value, "false", StringComparison.OrdinalIgnoreCase)));

        var stepOwners = context.SyntaxProvider.ForAttributeWithMetadataName(
            FlowReader.StepAttributeName,
            static (node, _) => node is MethodDeclarationSyntax,
            static (ctx, _) => ctx.TargetSymbol.ContainingType is { } type
                ? (Type: FlowReader.MetadataName(type), IsFlow: FlowReader.DerivesFromFlowSpec(type), Method: ctx.TargetSymbol.Name, Where: SourceSpot.From(ctx.TargetSymbol.Locations[0]))
                : default);

        var misplaced = stepOwners.Where(static s => s.Type is not null && !s.IsFlow);
        context.RegisterSourceOutput(misplaced, static (spc, s) =>
            spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.StepOutsideFlow, s.Where.ToLocation(), s.Method, s.Type)));

        var flowNames = stepOwners.Where(static s => s.IsFlow).Select(static (s, _) => s.Type).Collect()
            .Select(static (names, _) => new EquatableArray<string>(names.Distinct().OrderBy(n => n, StringComparer.Ordinal)));

        var flows = flowNames.Combine(context.CompilationProvider).Combine(projectDir).Select(static (input, cancel) =>
        {
            var ((names, compilation), dir) = input;
            var models = new List<FlowModel>();
            foreach (var name in names)
            {
                var type = compilation.GetTypeByMetadataName(name);
                if (type is not null)
                {
                    models.Add(FlowReader.Read(type, compilation, dir, cancel));
                }
            }
            return new EquatableArray<FlowModel>(models);
        });

        context.RegisterSourceOutput(flows.Combine(emitMain), static (spc, input) =>
        {
            var (models, main) = input;
            foreach (var flow in models)
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
            }
            var clashes = models.GroupBy(m => m.ClassName).Where(g => g.Count() > 1).ToList();
            foreach (var clash in clashes)
            {
                foreach (var flow in clash.Skip(1))
                {
                    spc.ReportDiagnostic(Diagnostic.Create(Diagnostics.DuplicateFlowName, flow.Where.ToLocation(), clash.First().FullName, flow.FullName));
                }
            }
            var valid = models.Where(m => !m.HasErrors).ToList();
            if (valid.Count > 0 && valid.Count == models.Count && clashes.Count == 0)
            {
                spc.AddSource("Flow.Sdk.Generated.FlowEntryPoint.g.cs", FlowEmitter.EntryPoint(valid, main));
            }
        });
    }
}
