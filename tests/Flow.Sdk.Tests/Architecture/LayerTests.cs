using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Flow.Sdk.Tests.Architecture;

/// <summary>
/// The layers inside Flow.Sdk point one way (docs/architecture.md): Datastore knows nothing of Runtime, Client or
/// Hosting; Client reads through Datastore and knows nothing of Runtime or Hosting; Runtime knows nothing of Client;
/// Graph knows nothing else. Checked on the sources: every name each file uses is bound and traced to the folder
/// that declares it.
/// </summary>
public sealed class LayerTests
{
    private static readonly Lazy<Dictionary<(string From, string To), string>> s_edges = new(ReadEdges);

    [Theory]
    [InlineData("Datastore", "Runtime")]
    [InlineData("Datastore", "Client")]
    [InlineData("Datastore", "Hosting")]
    [InlineData("Client", "Runtime")]
    [InlineData("Client", "Hosting")]
    [InlineData("Runtime", "Client")]
    [InlineData("Api", "Runtime")]
    [InlineData("Api", "Client")]
    [InlineData("Api", "Hosting")]
    [InlineData("Graph", "Datastore")]
    [InlineData("Graph", "Runtime")]
    [InlineData("Graph", "Client")]
    [InlineData("Graph", "Hosting")]
    [InlineData("Graph", "Api")]
    public void Folder_DoesNotDependOn(string from, string to) =>
        s_edges.Value.TryGetValue((from, to), out var example).ShouldBeFalse($"{from} uses {to}: {example}");

    [Fact]
    public void TheCheck_SeesTheEdgesThatMustExist()
    {
        // Guards the test itself: a binding failure would find no edge at all and pass everything above.
        s_edges.Value.Keys.ShouldContain(("Runtime", "Datastore"));
        s_edges.Value.Keys.ShouldContain(("Client", "Datastore"));
        s_edges.Value.Keys.ShouldContain(("Hosting", "Runtime"));
        s_edges.Value.Keys.ShouldContain(("Datastore", "Graph"));
    }

    private static Dictionary<(string From, string To), string> ReadEdges()
    {
        var root = RepoRoot();
        var sdk = Path.Combine(root, "src", "Flow.Sdk");
        var files = Directory.GetFiles(sdk, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f)).ToList();
        trees.Add(CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Threading; global using System.Threading.Tasks;",
            options,
            "ImplicitUsings.cs"));
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Where(d => Path.GetFileName(d) is "ZstdSharp.dll" or "TestableIO.System.IO.Abstractions.Wrappers.dll" or "Testably.Abstractions.FileSystem.Interface.dll"))
            .Distinct()
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Flow.Sdk", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

        var edges = new Dictionary<(string, string), string>();
        foreach (var tree in trees.Where(t => t.FilePath.StartsWith(sdk, StringComparison.Ordinal)))
        {
            var from = Folder(sdk, tree.FilePath);
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var symbol = model.GetSymbolInfo(node).Symbol ?? model.GetSymbolInfo(node).CandidateSymbols.FirstOrDefault();
                var type = symbol as INamedTypeSymbol ?? symbol?.ContainingType;
                var declared = type?.OriginalDefinition.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree.FilePath;
                if (declared is null || !declared.StartsWith(sdk, StringComparison.Ordinal))
                {
                    continue;
                }
                var to = Folder(sdk, declared);
                if (to != from)
                {
                    edges.TryAdd((from, to), $"{Path.GetRelativePath(sdk, tree.FilePath)} line {node.GetLocation().GetLineSpan().StartLinePosition.Line + 1} uses {type!.Name}");
                }
            }
        }
        return edges;
    }

    /// <summary>The top folder of a source file under src/Flow.Sdk (files at its root belong to every layer).</summary>
    private static string Folder(string sdk, string file)
    {
        var relative = Path.GetRelativePath(sdk, file).Split(Path.DirectorySeparatorChar);
        return relative.Length > 1 ? relative[0] : "(root)";
    }

    private static string RepoRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "flow.sln")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException("flow.sln not found above " + AppContext.BaseDirectory);
    }
}
