using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Flow.Build.Generator;

/// <summary>Reads a flow class into a <see cref="FlowModel"/>: steps and their Next calls, artifacts, parameters.</summary>
internal static class FlowReader
{
    public const string FlowSpecName = "Flow.Sdk.FlowSpec";
    public const string StepAttributeName = "Flow.Sdk.StepAttribute";
    public const string ParameterAttributeName = "Flow.Sdk.ParameterAttribute";
    public const string IncludeFileAttributeName = "Flow.Sdk.IncludeFileAttribute";

    private static bool IsParameterAttribute(AttributeData a) =>
        a.AttributeClass?.ToDisplayString() is ParameterAttributeName or IncludeFileAttributeName;

    /// <summary>Options of the flow executable and the tool; a parameter may not take these names (DESIGN §3).</summary>
    public static readonly string[] ReservedOptions =
    {
        "flow", "project", "tag", "with", "max-workers", "max-num-splits", "max-log-size", "run-id-file", "datastore", "verbose", "help", "build", "configuration",
    };

    /// <summary>Members of FlowSpec and object a step, artifact or parameter may not hide.</summary>
    public static readonly string[] ReservedNames =
    {
        "Next", "MergeArtifacts", "Input", "Index", "ForeachStack", "Iteration", "GetArtifact", "SetArtifact", "FlowDefinition__",
        "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize",
    };

    private static readonly SymbolDisplayFormat s_fullType = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>The name <see cref="Compilation.GetTypeByMetadataName"/> finds: nested types joined by '+', generic arity kept.</summary>
    public static string MetadataName(INamedTypeSymbol type)
    {
        var name = type.MetadataName;
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.MetadataName + "+" + name;
        }
        return type.ContainingNamespace.IsGlobalNamespace ? name : type.ContainingNamespace.ToDisplayString() + "." + name;
    }

    public static bool DerivesFromFlowSpec(INamedTypeSymbol type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t.ToDisplayString() == FlowSpecName)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether the [Step] method <paramref name="method"/> is the one its flow is read at: the flow's first [Step]
    /// attribute, in the order of the class's declarations and then of the source. Every [Step] method of a flow
    /// reaches the generator's transform, so reading the flow at one of them gives one model per flow.
    /// </summary>
    /// <remarks>
    /// The attribute, not the method symbol, decides: a partial method with [Step] on both parts is two targets of one
    /// symbol, while an attribute sits in exactly one method declaration. <c>[return: Step]</c> counts, as
    /// ForAttributeWithMetadataName reports such a method too (and the flow was always read then). Only ordinary
    /// methods count: [Step] on an accessor or operator is allowed by the attribute's usage, but such a declaration is
    /// no target of the transform, so the flow would never be read.
    /// </remarks>
    public static bool IsReadAt(INamedTypeSymbol type, SyntaxNode method)
    {
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.SyntaxTree).Distinct().ToList();
        SyntaxReference? first = null;
        var firstRank = (Tree: int.MaxValue, Start: int.MaxValue);
        foreach (var member in type.GetMembers().OfType<IMethodSymbol>().Where(m => m.MethodKind is MethodKind.Ordinary or MethodKind.ExplicitInterfaceImplementation))
        {
            foreach (var attribute in member.GetAttributes().Concat(member.GetReturnTypeAttributes()))
            {
                if (attribute.ApplicationSyntaxReference is not { } applied || attribute.AttributeClass?.ToDisplayString() != StepAttributeName)
                {
                    continue;
                }
                var tree = declarations.IndexOf(applied.SyntaxTree);
                var rank = (Tree: tree < 0 ? int.MaxValue : tree, applied.Span.Start);
                if (first is null || rank.CompareTo(firstRank) < 0)
                {
                    (first, firstRank) = (applied, rank);
                }
            }
        }
        return first is not null && first.SyntaxTree == method.SyntaxTree && method.Span.Contains(first.Span);
    }

    /// <summary>
    /// Reads a flow from its symbol and the syntax of its declarations. File paths stay as the compiler has them
    /// (<see cref="InProject"/> makes them project-relative), so the reading needs nothing but the flow's own context.
    /// </summary>
    public static FlowModel Read(INamedTypeSymbol type, Compilation compilation, CancellationToken cancel)
    {
        var diagnostics = new List<FoundDiagnostic>();
        var classSyntax = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancel)).OfType<ClassDeclarationSyntax>().ToList();
        var classSpot = SourceSpot.From(classSyntax.FirstOrDefault()?.Identifier.GetLocation() ?? type.Locations[0]);
        void Report(DiagnosticDescriptor d, Location where, params string[] args) =>
            diagnostics.Add(new FoundDiagnostic(d.Id, SourceSpot.From(where), new EquatableArray<string>(args)));

        var isPartial = classSyntax.Count > 0 && classSyntax.All(c => c.Modifiers.Any(SyntaxKind.PartialKeyword));
        var canEmit = isPartial && type.ContainingType is null && !type.IsGenericType;
        if (!isPartial || type.ContainingType is not null)
        {
            Report(Diagnostics.NotPartial, classSpot.ToLocation(), type.Name);
        }
        if (type.IsAbstract || type.IsGenericType || !type.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public))
        {
            Report(Diagnostics.NotConcrete, classSpot.ToLocation(), type.Name);
        }

        var stepMethods = type.GetMembers().OfType<IMethodSymbol>()
            .Where(m => m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == StepAttributeName))
            .ToList();
        foreach (var overload in stepMethods.GroupBy(m => m.Name).Where(g => g.Count() > 1).SelectMany(g => g.Skip(1)))
        {
            Report(Diagnostics.OverloadedStep, overload.Locations[0], overload.Name);
        }
        stepMethods = [.. stepMethods.GroupBy(m => m.Name).Select(g => g.First())];
        var stepNames = new HashSet<string>(stepMethods.Select(m => m.Name), StringComparer.Ordinal);

        var artifacts = ReadArtifacts(type, Report);
        var parameters = ReadParameters(type, Report);
        var artifactNames = new HashSet<string>(artifacts.Select(a => a.Name).Concat(parameters.Select(p => p.Name)), StringComparer.Ordinal);

        // Steps, artifacts and parameters would hide FlowSpec's members; a helper method or an override may be named so.
        foreach (var member in type.GetMembers().Where(m => !m.IsImplicitlyDeclared && Array.IndexOf(ReservedNames, m.Name) >= 0 && m.Locations.Length > 0 && m.Locations[0].IsInSource
            && (m is IPropertySymbol or IFieldSymbol || stepNames.Contains(m.Name))))
        {
            var what = stepNames.Contains(member.Name) ? "Step" : member is IPropertySymbol ? "Property" : "Member";
            Report(Diagnostics.ReservedName, member.Locations[0], what, member.Name, "reserved: " + string.Join(", ", ReservedNames.Take(9)));
        }
        foreach (var clash in stepMethods.GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            foreach (var other in clash.Skip(1))
            {
                Report(Diagnostics.CaseClash, other.Locations[0], clash.First().Name, other.Name);
            }
        }

        var steps = new List<StepModel>();
        var items = new Dictionary<string, (IParameterSymbol Parameter, Location Where)>(StringComparer.Ordinal);
        var elements = new Dictionary<string, ITypeSymbol>(StringComparer.Ordinal);
        foreach (var method in stepMethods.OrderBy(m => m.Locations[0].SourceSpan.Start))
        {
            var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancel)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
            {
                continue;
            }
            var model = compilation.GetSemanticModel(syntax.SyntaxTree);
            var (step, item, element) = ReadStep(method, syntax, model, type, stepNames, artifactNames, Report, cancel);
            steps.Add(step);
            if (item is not null)
            {
                items[step.Name] = (item, item.Locations.FirstOrDefault() ?? step.Where.ToLocation());
            }
            if (element is not null)
            {
                elements[step.Name] = element;
            }
        }

        // A foreach child's item parameter must take the collection's elements; only a foreach child has one.
        // (Several foreach steps may name one child; the graph rules then report the child as reached inside different splits.)
        foreach (var entry in items)
        {
            var (name, parameter, where) = (entry.Key, entry.Value.Parameter, entry.Value.Where);
            var parents = steps.Where(s => s.Kind == "foreach" && s.Next.Count == 1 && s.Next[0] == name).ToList();
            if (parents.Count == 0)
            {
                Report(Diagnostics.BadStepSignature, where, name, $"takes a parameter ({parameter.Type.ToDisplayString()} {parameter.Name}) but no foreach targets it; only a foreach child receives its item");
            }
            foreach (var parent in parents)
            {
                if (elements.TryGetValue(parent.Name, out var element) && !SymbolEqualityComparer.Default.Equals(element, parameter.Type) && parameter.Type.SpecialType != SpecialType.System_Object)
                {
                    Report(Diagnostics.ItemTypeMismatch, where, name, parent.Name + "'s " + parent.ForEach, element.ToDisplayString(), parameter.Type.ToDisplayString(), parameter.Name);
                }
            }
        }

        var joins = GraphRules.Check(type.Name, classSpot, steps, Report);
        steps = steps.Select(s => s with { MatchingJoin = joins.TryGetValue(s.Name, out var join) ? join : null }).ToList();

        return new FlowModel(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            type.ToDisplayString(s_fullType),
            Summary(classSyntax.FirstOrDefault()),
            string.Empty,
            new EquatableArray<StepModel>(steps),
            new EquatableArray<ArtifactModel>(artifacts),
            new EquatableArray<ParameterModel>(parameters),
            new EquatableArray<FoundDiagnostic>(diagnostics),
            canEmit,
            classSpot,
            MetadataName(type));
    }

    /// <summary>The flow with the files of the class and of each step relative to the project folder.</summary>
    public static FlowModel InProject(FlowModel flow, string? projectDir) => flow with
    {
        RelativeFile = RelativeFile(flow.Where.Path, projectDir).Replace('\\', '/'),
        Steps = new EquatableArray<StepModel>(flow.Steps.Select(s => s with { File = RelativeFile(s.Where.Path, projectDir) })),
    };

    /// <summary>A source path relative to the project folder (matched at a folder boundary), else the file name.</summary>
    internal static string RelativeFile(string path, string? projectDir)
    {
        if (projectDir is { Length: > 0 })
        {
            var root = projectDir.TrimEnd('/', '\\');
            if (path.Length > root.Length + 1 && path.StartsWith(root, StringComparison.Ordinal) && (path[root.Length] == '/' || path[root.Length] == '\\'))
            {
                return path.Substring(root.Length + 1).Replace('\\', '/');
            }
        }
        return System.IO.Path.GetFileName(path);
    }

    private static List<ArtifactModel> ReadArtifacts(INamedTypeSymbol type, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        var artifacts = new List<ArtifactModel>();
        foreach (var member in type.GetMembers())
        {
            if (member.IsStatic || member.IsImplicitlyDeclared)
            {
                continue;
            }
            if (member is IPropertySymbol property)
            {
                var isParameter = property.GetAttributes().Any(IsParameterAttribute);
                if (property.IsPartialDefinition && property.DeclaredAccessibility == Accessibility.Public && property.GetMethod is not null && property.SetMethod is not null && !isParameter)
                {
                    artifacts.Add(new ArtifactModel(property.Name, property.Type.ToDisplayString(s_fullType), "public"));
                }
                else if (!isParameter && property.DeclaredAccessibility == Accessibility.Public && property.SetMethod is { DeclaredAccessibility: Accessibility.Public, IsInitOnly: false } && property.PartialImplementationPart is null && !property.IsPartialDefinition && property.PartialDefinitionPart is null)
                {
                    report(Diagnostics.NotAnArtifact, property.Locations[0], new[] { "Property", property.Name, property.Type.ToDisplayString() });
                }
            }
            else if (member is IFieldSymbol { DeclaredAccessibility: Accessibility.Public, IsConst: false, IsReadOnly: false } field)
            {
                report(Diagnostics.NotAnArtifact, field.Locations[0], new[] { "Field", field.Name, field.Type.ToDisplayString() });
            }
        }
        return artifacts;
    }

    private static List<ParameterModel> ReadParameters(INamedTypeSymbol type, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        var parameters = new List<ParameterModel>();
        var byOption = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in type.GetMembers().OfType<IPropertySymbol>())
        {
            var attribute = property.GetAttributes().FirstOrDefault(IsParameterAttribute);
            if (attribute is null)
            {
                continue;
            }
            var isFile = attribute.AttributeClass?.ToDisplayString() == IncludeFileAttributeName;
            if (property.SetMethod is not { IsInitOnly: true })
            {
                report(Diagnostics.ParameterNotInitOnly, property.Locations[0], new[] { property.Name });
            }
            var option = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is string explicitName && explicitName.Length > 0
                ? explicitName
                : Kebab(property.Name);
            if (Array.IndexOf(ReservedOptions, option) >= 0)
            {
                report(Diagnostics.ReservedParameter, property.Locations[0], new[] { option });
            }
            if (byOption.TryGetValue(option, out var other))
            {
                report(Diagnostics.DuplicateParameter, property.Locations[0], new[] { other, property.Name, option });
            }
            byOption[option] = property.Name;
            string? help = null;
            string? separator = null;
            string? defaultPath = null;
            var encoding = "utf-8";
            var required = false;
            foreach (var named in attribute.NamedArguments)
            {
                switch (named.Key)
                {
                    case "Help":
                        help = named.Value.Value as string;
                        break;
                    case "Required" when named.Value.Value is bool b:
                        required = b;
                        break;
                    case "Separator":
                        separator = named.Value.Value as string;
                        break;
                    case "Default":
                        defaultPath = named.Value.Value as string;
                        break;
                    case "Encoding" when named.Value.Value is string e:
                        encoding = e;
                        break;
                }
            }
            if (isFile && !IsFileType(property.Type))
            {
                report(Diagnostics.BadParameterType, property.Locations[0], new[] { $"Included file {property.Name} is a {property.Type.ToDisplayString()}; an [IncludeFile] property is a string (text), byte[] or IncludedFile (a stream)" });
            }
            if (separator is not null && (separator.Length == 0 || property.Type.SpecialType == SpecialType.System_String || ElementType(property.Type) is null))
            {
                report(Diagnostics.BadParameterType, property.Locations[0], new[] { $"Parameter {property.Name} has a Separator but is a {property.Type.ToDisplayString()}; a separator (non-empty) splits the items of a list or array parameter" });
            }
            var syntax = property.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<PropertyDeclarationSyntax>().FirstOrDefault();
            parameters.Add(new ParameterModel(
                property.Name,
                option,
                property.Type.ToDisplayString(),
                property.Type.ToDisplayString(s_fullType),
                property.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                isFile ? defaultPath : syntax?.Initializer?.Value.ToString(),
                required,
                help,
                isFile,
                separator,
                isFile && property.Type.SpecialType == SpecialType.System_String ? encoding : null,
                EnumNames(property.Type)));
        }
        return parameters;
    }

    private static (StepModel Step, IParameterSymbol? Item, ITypeSymbol? Element) ReadStep(
        IMethodSymbol method,
        MethodDeclarationSyntax syntax,
        SemanticModel model,
        INamedTypeSymbol flow,
        HashSet<string> stepNames,
        HashSet<string> artifactNames,
        Action<DiagnosticDescriptor, Location, string[]> report,
        CancellationToken cancel)
    {
        var where = syntax.Identifier.GetLocation();
        var returnsTask = method.ReturnType.ToDisplayString() == "System.Threading.Tasks.Task";
        if (!method.ReturnsVoid && !returnsTask)
        {
            report(Diagnostics.BadStepSignature, where, new[] { method.Name, "must return void or Task" });
        }
        if (method.IsStatic || method.IsGenericMethod)
        {
            report(Diagnostics.BadStepSignature, where, new[] { method.Name, "must be an instance method without type parameters" });
        }
        if (method.IsAsync && method.ReturnsVoid)
        {
            report(Diagnostics.BadStepSignature, where, new[] { method.Name, "is 'async void'; make it 'async Task' so the step's end is known" });
        }

        var calls = new List<(InvocationExpressionSyntax Call, List<string> Targets, string? ForEach)>();
        ITypeSymbol? element = null;
        var body = (SyntaxNode?)syntax.Body ?? syntax.ExpressionBody;
        foreach (var invocation in body?.DescendantNodes().OfType<InvocationExpressionSyntax>() ?? Enumerable.Empty<InvocationExpressionSyntax>())
        {
            cancel.ThrowIfCancellationRequested();
            if (model.GetSymbolInfo(invocation, cancel).Symbol is not IMethodSymbol called
                || called.Name != "Next" || called.ContainingType.ToDisplayString() != FlowSpecName)
            {
                continue;
            }
            var misplaced = invocation.Ancestors().TakeWhile(n => n != body).FirstOrDefault(n =>
                n is not (ExpressionStatementSyntax or BlockSyntax or IfStatementSyntax or ElseClauseSyntax or SwitchSectionSyntax or SwitchStatementSyntax or ArrowExpressionClauseSyntax));
            if (misplaced is not null)
            {
                report(Diagnostics.BadNextShape, invocation.GetLocation(), new[] { $"Next(...) in step {method.Name} stands inside {Describe(misplaced)}; call it directly in the step body or in its if/else and switch sections" });
                continue;
            }
            var targets = new List<string>();
            string? forEach = null;
            foreach (var argument in invocation.ArgumentList.Arguments)
            {
                if (argument.NameColon?.Name.Identifier.Text == "forEach")
                {
                    (forEach, element) = ReadForEach(argument, model, flow, artifactNames, report, cancel);
                    continue;
                }
                var target = model.GetSymbolInfo(argument.Expression, cancel);
                var targetMethod = target.Symbol as IMethodSymbol ?? target.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault();
                if (argument.Expression is not (IdentifierNameSyntax or MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax }) || targetMethod is null)
                {
                    report(Diagnostics.BadNextShape, argument.GetLocation(), new[] { $"Next({argument}) in step {method.Name}: a target must be a step's method group, such as Next(Train)" });
                    continue;
                }
                if (!SymbolEqualityComparer.Default.Equals(targetMethod.ContainingType, flow) || !stepNames.Contains(targetMethod.Name))
                {
                    report(Diagnostics.NotAStep, argument.GetLocation(), new[] { argument.ToString(), flow.Name });
                    continue;
                }
                targets.Add(targetMethod.Name);
            }
            calls.Add((invocation, targets, forEach));
        }

        // Parameters: none; Inputs<ThisFlow> for a join; one item for a foreach child.
        IParameterSymbol? item = null;
        var isJoin = false;
        foreach (var parameter in method.Parameters)
        {
            if (parameter.Type is INamedTypeSymbol { Name: "Inputs", TypeArguments.Length: 1 } inputs && inputs.ContainingNamespace.ToDisplayString() == "Flow.Sdk")
            {
                if (!SymbolEqualityComparer.Default.Equals(inputs.TypeArguments[0], flow))
                {
                    report(Diagnostics.BadInputs, where, new[] { method.Name, $"takes {parameter.Type.ToDisplayString()}; a join of {flow.Name} takes Inputs<{flow.Name}>" });
                }
                else if (method.Name is "Start")
                {
                    report(Diagnostics.BadInputs, where, new[] { method.Name, "takes Inputs, but Start has no inputs: it begins the flow" });
                }
                isJoin = true;
            }
            else
            {
                item = parameter;
            }
        }
        if (method.Parameters.Length > 1)
        {
            report(Diagnostics.BadStepSignature, where, new[] { method.Name, $"takes {method.Parameters.Length} parameters; a step takes none, a join takes Inputs<{flow.Name}>, and a foreach child takes its item" });
            item = null;
        }
        else if (item is not null && (item.RefKind != RefKind.None || item.IsParams))
        {
            report(Diagnostics.BadStepSignature, where, new[] { method.Name, "takes its item by reference or as params; take it by value" });
        }

        string kind;
        if (method.Name == "End")
        {
            kind = "end";
            foreach (var call in calls)
            {
                report(Diagnostics.EndCallsNext, call.Call.GetLocation(), Array.Empty<string>());
            }
        }
        else if (calls.Count > 1)
        {
            // A conditional step: each path names one step.
            foreach (var call in calls.Where(c => c.Targets.Count > 1 || c.ForEach is not null))
            {
                report(Diagnostics.BadNextShape, call.Call.GetLocation(), new[] { $"Step {method.Name} calls Next on several paths, so it is a conditional step: each Next call names exactly one step, without forEach" });
            }
            kind = calls.SelectMany(c => c.Targets).Distinct().Count() > 1 ? "switch" : "linear";
        }
        else if (calls.Count == 1 && calls[0].ForEach is not null)
        {
            kind = "foreach";
            if (calls[0].Targets.Count != 1)
            {
                report(Diagnostics.BadNextShape, calls[0].Call.GetLocation(), new[] { $"Step {method.Name} fans out over {calls[0].ForEach} to {calls[0].Targets.Count} steps; a foreach names exactly one step" });
            }
        }
        else if (calls.Count == 1 && calls[0].Targets.Count > 1)
        {
            kind = "split";
            foreach (var twice in calls[0].Targets.GroupBy(t => t).Where(g => g.Count() > 1))
            {
                report(Diagnostics.BadNextShape, calls[0].Call.GetLocation(), new[] { $"Step {method.Name} names {twice.Key} twice in one split; each branch is its own step" });
            }
        }
        else
        {
            kind = "linear";
        }
        if (calls.Count == 0 && method.Name != "End")
        {
            report(Diagnostics.NoNext, where, new[] { method.Name });
        }
        var next = kind == "end" ? new List<string>() : calls.SelectMany(c => c.Targets).Distinct().ToList();
        var (retry, caught, timeout) = ReadDecorators(method, flow, kind, where, report);
        var step = new StepModel(
            method.Name,
            kind,
            new EquatableArray<string>(next),
            kind == "foreach" ? calls[0].ForEach : null,
            Summary(syntax),
            returnsTask,
            SourceSpot.From(where),
            string.Empty,
            isJoin,
            item?.Type.ToDisplayString(s_fullType),
            kind == "foreach" && element is not null ? element.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) : null,
            null,
            retry,
            caught,
            timeout,
            new EquatableArray<string>(method.GetAttributes()
                .Where(a => a.AttributeClass?.ToDisplayString() == "Flow.Sdk.EnvironmentAttribute" && a.ConstructorArguments.Length == 2)
                .Select(a => $"{a.ConstructorArguments[0].Value}={a.ConstructorArguments[1].Value}")),
            ReadCard(method),
            ReadPlacement(method, flow, where, report));
        return (step, item, kind == "foreach" ? element : null);
    }

    /// <summary>[Slurm] of the step (else of its flow), [Resources] and [Local]; null when the step has none.</summary>
    private static PlacementModel? ReadPlacement(IMethodSymbol method, INamedTypeSymbol flow, Location where, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        static AttributeData? Find(ImmutableArray<AttributeData> attributes, string name) =>
            attributes.FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == name);
        static string? Text(AttributeData attribute, string name) =>
            attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as string is { Length: > 0 } text ? text.Trim() : null;
        static int Number(AttributeData attribute, string name) =>
            attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is int n ? n : 0;

        var own = method.GetAttributes();
        var stepSlurm = Find(own, "Flow.Sdk.SlurmAttribute");
        var local = Find(own, "Flow.Sdk.LocalAttribute") is not null;
        var resources = Find(own, "Flow.Sdk.ResourcesAttribute");
        if (local && stepSlurm is not null)
        {
            report(Diagnostics.BadDecorator, where, new[] { $"Step {method.Name} has both [Local] and [Slurm]: a step runs on this machine or as a Slurm job; remove one" });
        }
        var slurm = local ? null : stepSlurm ?? Find(flow.GetAttributes(), "Flow.Sdk.SlurmAttribute");
        if (resources is not null && (Number(resources, "Cpu") < 0 || Number(resources, "MemoryMb") < 0 || Number(resources, "Gpu") < 0))
        {
            report(Diagnostics.BadDecorator, where, new[] { $"[Resources] on step {method.Name} asks for a negative amount: give Cpu, MemoryMb and Gpu as 0 (not given) or more" });
        }
        if (slurm is not null && Text(slurm, "Time") is { } time && !System.Text.RegularExpressions.Regex.IsMatch(time, @"^(\d+-)?\d+(:\d+){0,2}$|^UNLIMITED$|^INFINITE$"))
        {
            report(Diagnostics.BadDecorator, where, new[] { $"[Slurm(Time = \"{time}\")] on step {method.Name} is not a Slurm time: write minutes (30), H:MM:SS (2:00:00) or D-HH (1-12)" });
        }
        if (slurm is null && !local && resources is null)
        {
            return null;
        }
        return new PlacementModel(
            slurm is not null,
            slurm is null ? null : Text(slurm, "Partition"),
            slurm is null ? null : Text(slurm, "Time"),
            slurm is null ? null : Text(slurm, "Account"),
            local,
            resources is null ? 0 : Number(resources, "Cpu"),
            resources is null ? 0 : Number(resources, "MemoryMb"),
            resources is null ? 0 : Number(resources, "Gpu"),
            resources is not null);
    }

    /// <summary>[Card] of a step: its title and whether it lists the task's artifacts.</summary>
    private static CardModel? ReadCard(IMethodSymbol method)
    {
        var attribute = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Flow.Sdk.CardAttribute");
        if (attribute is null)
        {
            return null;
        }
        var named = attribute.NamedArguments;
        return new CardModel(
            named.FirstOrDefault(a => a.Key == "Title").Value.Value as string,
            named.FirstOrDefault(a => a.Key == "Artifacts").Value.Value is not false);
    }

    /// <summary>[Retry], [Catch] and [Timeout] of a step, checked: a catch needs one successor and a StepError artifact.</summary>
    private static (int? Retry, string? Catch, int Timeout) ReadDecorators(IMethodSymbol method, INamedTypeSymbol flow, string kind, Location where, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        int? retry = null;
        string? caught = null;
        var timeout = 0;
        foreach (var attribute in method.GetAttributes())
        {
            int Named(string name, int fallback) => attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is int v ? v : fallback;
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case "Flow.Sdk.RetryAttribute":
                    retry = Named("Times", 3);
                    if (retry is < 0 or > 5)
                    {
                        report(Diagnostics.BadDecorator, where, new[] { $"[Retry(Times = {retry})] on step {method.Name}: a step gets 0 to 5 more attempts (6 in all)" });
                    }
                    break;
                case "Flow.Sdk.TimeoutAttribute":
                    timeout = Named("Seconds", 0) + (Named("Minutes", 0) * 60) + (Named("Hours", 0) * 3600);
                    if (timeout <= 0)
                    {
                        report(Diagnostics.BadDecorator, where, new[] { $"[Timeout] on step {method.Name} gives no time: set Seconds, Minutes or Hours to more than 0" });
                    }
                    break;
                case "Flow.Sdk.EnvironmentAttribute":
                    if (attribute.ConstructorArguments.Length != 2 || attribute.ConstructorArguments[0].Value is not string { Length: > 0 } variable || variable.Contains('='))
                    {
                        report(Diagnostics.BadDecorator, where, new[] { $"[Environment] on step {method.Name} needs a variable name (without '=') and a value" });
                    }
                    break;
                case "Flow.Sdk.CatchAttribute":
                    caught = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Var").Value.Value as string ?? string.Empty;
                    if (kind != "linear")
                    {
                        report(Diagnostics.BadDecorator, where, new[] { $"[Catch] on step {method.Name}, which is {(kind == "end" ? "End" : "a " + kind)}: a caught step continues to its one successor, so [Catch] goes on a step that calls Next with one target" });
                    }
                    if (caught.Length > 0)
                    {
                        var artifact = flow.GetMembers(caught).OfType<IPropertySymbol>().FirstOrDefault(p => p.IsPartialDefinition);
                        if (artifact is null || artifact.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString() != "Flow.Sdk.StepError")
                        {
                            report(Diagnostics.BadDecorator, where, new[] { $"[Catch(Var = \"{caught}\")] on step {method.Name}: Var names an artifact of type StepError, such as 'public partial StepError? {caught} {{ get; set; }}' and Var = nameof({caught})" });
                        }
                    }
                    break;
            }
        }
        return (retry, caught, timeout);
    }

    /// <summary>An enum's (or nullable enum's) member names, for run --help; empty for any other type.</summary>
    private static EquatableArray<string> EnumNames(ITypeSymbol type)
    {
        var bare = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type;
        return bare.TypeKind == TypeKind.Enum
            ? new EquatableArray<string>(bare.GetMembers().OfType<IFieldSymbol>().Where(f => f.IsConst).Select(f => f.Name))
            : default;
    }

    private static bool IsFileType(ITypeSymbol type) =>
        type.SpecialType == SpecialType.System_String
        || type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Byte, Rank: 1 }
        || type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString() == "Flow.Sdk.IncludedFile";

    /// <summary>The element type of a collection: an array's element, else T of the IEnumerable&lt;T&gt; it implements.</summary>
    internal static ITypeSymbol? ElementType(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }
        var enumerable = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Collections_Generic_IEnumerable_T } self
            ? self
            : type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
        return enumerable?.TypeArguments[0];
    }

    private static (string? Name, ITypeSymbol? Element) ReadForEach(ArgumentSyntax argument, SemanticModel model, INamedTypeSymbol flow, HashSet<string> artifactNames, Action<DiagnosticDescriptor, Location, string[]> report, CancellationToken cancel)
    {
        if (argument.Expression is InvocationExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.Text: "nameof" } } nameOf
            && model.GetConstantValue(nameOf, cancel).Value is string name && artifactNames.Contains(name))
        {
            var property = flow.GetMembers(name).OfType<IPropertySymbol>().FirstOrDefault();
            var element = property is null || property.Type.SpecialType == SpecialType.System_String ? null : ElementType(property.Type);
            if (element is null)
            {
                report(Diagnostics.BadNextShape, argument.GetLocation(), new[] { $"forEach: nameof({name}) names a {property?.Type.ToDisplayString() ?? "value"}, not a collection; a foreach fans out over an array, list or other IEnumerable<T> artifact" });
                return (null, null);
            }
            return (name, element);
        }
        report(Diagnostics.BadNextShape, argument.GetLocation(), new[] { $"forEach: {argument.Expression} must be nameof(...) of a collection artifact or parameter of this flow" });
        return (null, null);
    }

    private static string Describe(SyntaxNode node) => node switch
    {
        ForStatementSyntax or ForEachStatementSyntax or WhileStatementSyntax or DoStatementSyntax => "a loop",
        LambdaExpressionSyntax or AnonymousMethodExpressionSyntax => "a lambda",
        LocalFunctionStatementSyntax => "a local function",
        TryStatementSyntax or CatchClauseSyntax or FinallyClauseSyntax => "a try block",
        _ => "an expression",
    };

    internal static string Kebab(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary)
                {
                    text.Append('-');
                }
                text.Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c == '_' ? '-' : c);
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// The text of a <c>&lt;summary&gt;</c> comment, read from the syntax so that it works without
    /// documentation files.
    /// </summary>
    internal static string? Summary(SyntaxNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var docLines = node.GetLeadingTrivia().ToFullString().Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("///", StringComparison.Ordinal))
            .Select(l => l.Substring(3));
        var doc = string.Join(" ", docLines);
        var match = Regex.Match(doc, "<summary>(.*?)</summary>", RegexOptions.Singleline);
        if (!match.Success)
        {
            return null;
        }
        var text = Regex.Replace(match.Groups[1].Value, "<(see|seealso|paramref|typeparamref)\\s+(cref|name|langword)=\"(?:[A-Z]:)?([^\"]*)\"\\s*/>", "$3");
        text = Regex.Replace(text, "<[^>]+>", string.Empty);
        text = Regex.Replace(text, "\\s+", " ").Trim();
        text = text.Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&");
        return text.Length == 0 ? null : text;
    }
}
