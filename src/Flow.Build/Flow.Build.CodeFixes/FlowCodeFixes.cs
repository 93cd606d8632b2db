using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace Flow.Build.CodeFixes;

/// <summary>FLOW0004 (a step without Next): adds <c>Next(X);</c> at the end of the step, X the step declared after it (else End).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddNextFix)), Shared]
public sealed class AddNextFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("FLOW0004");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent?.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method
            || method.Parent is not TypeDeclarationSyntax type)
        {
            return;
        }
        var steps = type.Members.OfType<MethodDeclarationSyntax>().Where(Fixes.IsStep).ToList();
        var index = steps.IndexOf(method);
        var target = index >= 0 && index + 1 < steps.Count ? steps[index + 1].Identifier.Text : "End";
        context.RegisterCodeFix(
            CodeAction.Create($"Call Next({target}) at the end of {method.Identifier.Text}", cancel => AddAsync(context.Document, root, method, target, cancel), nameof(AddNextFix)),
            context.Diagnostics);
    }

    private static Task<Document> AddAsync(Document document, SyntaxNode root, MethodDeclarationSyntax method, string target, CancellationToken cancel)
    {
        var next = SyntaxFactory.ParseStatement($"Next({target});");
        var body = method.Body
            ?? (method.ExpressionBody is { } arrow ? SyntaxFactory.Block(SyntaxFactory.ExpressionStatement(arrow.Expression)) : SyntaxFactory.Block());
        var fixedMethod = method.WithExpressionBody(null).WithSemicolonToken(default)
            .WithBody(body.AddStatements(next)).WithAdditionalAnnotations(Formatter.Annotation);
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(method, fixedMethod)));
    }
}

/// <summary>FLOW0011 (public state that would not be saved): declares it as an artifact, <c>public partial T X { get; set; }</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeArtifactFix)), Shared]
public sealed class MakeArtifactFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("FLOW0011");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var node = root?.FindToken(context.Span.Start).Parent;
        MemberDeclarationSyntax? member = node?.FirstAncestorOrSelf<PropertyDeclarationSyntax>() ?? (MemberDeclarationSyntax?)node?.FirstAncestorOrSelf<FieldDeclarationSyntax>();
        var (typeSyntax, name) = member switch
        {
            PropertyDeclarationSyntax property => (property.Type, property.Identifier.Text),
            FieldDeclarationSyntax { Declaration.Variables.Count: 1 } field => (field.Declaration.Type, field.Declaration.Variables[0].Identifier.Text),
            _ => (null, null),
        };
        if (root is null || member is null || typeSyntax is null || name is null)
        {
            return;
        }
        context.RegisterCodeFix(
            CodeAction.Create($"Make {name} an artifact (public partial {typeSyntax} {name} {{ get; set; }})", cancel =>
            {
                var artifact = SyntaxFactory.ParseMemberDeclaration($"public partial {typeSyntax} {name} {{ get; set; }}")!
                    .WithLeadingTrivia(member.GetLeadingTrivia())
                    .WithTrailingTrivia(member.GetTrailingTrivia())
                    .WithAdditionalAnnotations(Formatter.Annotation);
                return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(member, artifact)));
            }, nameof(MakeArtifactFix)),
            context.Diagnostics);
    }
}

/// <summary>FLOW0027 (branches meet at a step that is not a join): makes the step a join, taking <c>Inputs&lt;TFlow&gt; inputs</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddInputsFix)), Shared]
public sealed class AddInputsFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("FLOW0027");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent?.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method
            || method.Parent is not ClassDeclarationSyntax flow
            || method.ParameterList.Parameters.Any(p => p.Type is GenericNameSyntax { Identifier.Text: "Inputs" }))
        {
            return;
        }
        var inputs = SyntaxFactory.Parameter(SyntaxFactory.Identifier("inputs"))
            .WithType(SyntaxFactory.ParseTypeName($"Inputs<{flow.Identifier.Text}>").WithTrailingTrivia(SyntaxFactory.Space));
        context.RegisterCodeFix(
            CodeAction.Create($"Make {method.Identifier.Text} a join (Inputs<{flow.Identifier.Text}> inputs)", cancel =>
                Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(method, method.WithParameterList(SyntaxFactory.ParameterList(SyntaxFactory.SingletonSeparatedList(inputs)))))),
                nameof(AddInputsFix)),
            context.Diagnostics);
    }
}

/// <summary>FLOW0013 (a parameter with a setter): makes it <c>{ get; init; }</c>, so no step can change it during a run.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InitOnlyParameterFix)), Shared]
public sealed class InitOnlyParameterFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("FLOW0013");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindToken(context.Span.Start).Parent?.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is not { AccessorList: { } accessors } property)
        {
            return;
        }
        var setter = accessors.Accessors.FirstOrDefault(a => a.IsKind(SyntaxKind.SetAccessorDeclaration));
        var init = SyntaxFactory.AccessorDeclaration(SyntaxKind.InitAccessorDeclaration).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken));
        var fixedAccessors = setter is null
            ? accessors.AddAccessors(init)
            : accessors.ReplaceNode(setter, setter.WithKeyword(SyntaxFactory.Token(setter.Keyword.LeadingTrivia, SyntaxKind.InitKeyword, setter.Keyword.TrailingTrivia)).WithModifiers(default));
        context.RegisterCodeFix(
            CodeAction.Create($"Make parameter {property.Identifier.Text} init-only ({{ get; init; }})", cancel =>
                Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(property, property.WithAccessorList(fixedAccessors)))),
                nameof(InitOnlyParameterFix)),
            context.Diagnostics);
    }
}

/// <summary>
/// FLOW0009 for a foreach over a value that is not a collection (<c>forEach: nameof(X)</c>, X a single value): declares
/// X as an array of its type.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ForeachCollectionFix)), Shared]
public sealed class ForeachCollectionFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("FLOW0009");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics.FirstOrDefault(d => d.GetMessage().Contains("not a collection"));
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (diagnostic is null || root?.FindNode(context.Span) is not { } node
            || node.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().FirstOrDefault(i => i.Expression is IdentifierNameSyntax { Identifier.Text: "nameof" }) is not { } nameOf
            || nameOf.ArgumentList.Arguments.FirstOrDefault()?.Expression is not IdentifierNameSyntax { Identifier.Text: var name }
            || node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } type
            || type.Members.OfType<PropertyDeclarationSyntax>().FirstOrDefault(p => p.Identifier.Text == name) is not { } property)
        {
            return;
        }
        context.RegisterCodeFix(
            CodeAction.Create($"Declare {name} as {property.Type}[] (a foreach fans out over a collection)", cancel =>
            {
                var array = SyntaxFactory.ArrayType(property.Type.WithoutTrivia(), SyntaxFactory.SingletonList(SyntaxFactory.ArrayRankSpecifier()))
                    .WithTriviaFrom(property.Type);
                return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(property.Type, array)));
            }, nameof(ForeachCollectionFix)),
            diagnostic);
    }
}

internal static class Fixes
{
    /// <summary>Whether a method is a step (has <c>[Step]</c>, however written).</summary>
    public static bool IsStep(MethodDeclarationSyntax method) =>
        method.AttributeLists.SelectMany(l => l.Attributes).Any(a => a.Name.ToString() is "Step" or "StepAttribute" or "Flow.Sdk.Step" or "Flow.Sdk.StepAttribute");
}
