using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Flow.Sdk;

namespace Flow.Cli.Tests.Architecture;

/// <summary>
/// The tool reads through the SDK's public API and a small, named internal surface (docs/architecture.md): the
/// datastore's maintenance (open, verify, du, gc), which flow a command means, and the process helpers it shares
/// with the flow executable. Checked on the tool's compiled metadata: every SDK type and member it references.
/// </summary>
public sealed class SdkSurfaceTests
{
    /// <summary>Internal SDK types the tool may use, by full name.</summary>
    private static readonly HashSet<string> AllowedInternalTypes = new(StringComparer.Ordinal)
    {
        // The datastore's maintenance: open and locate it, verify, du, gc.
        "Flow.Sdk.Datastore.FlowDatastore",
        "Flow.Sdk.Datastore.DatastoreLocator",
        "Flow.Sdk.Datastore.DatastoreInspector",
        "Flow.Sdk.Datastore.Inventory",
        "Flow.Sdk.Datastore.BlobUse",
        "Flow.Sdk.Datastore.RecordProblem",
        "Flow.Sdk.Datastore.GarbageCollector",
        "Flow.Sdk.Datastore.RetentionRules",
        "Flow.Sdk.Datastore.GcPlan",
        // Which flow a command means, run --help, the checks of shared options and tags: the same answers as the
        // flow executable gives.
        "Flow.Sdk.Graph.FlowChoice",
        "Flow.Sdk.Hosting.FlowHostHelp",
        "Flow.Sdk.Hosting.InputChecks",
        "Flow.Sdk.TagRules",
        // Processes: the dotnet host that starts the flow, and signals passed on to it.
        "Flow.Sdk.DotnetHost",
        "Flow.Sdk.Runtime.EarlyWorker", // dotnet flow run starts the first worker of a run it hosts (docs/performance.md)
        "Flow.Sdk.ProcessSignals",
    };

    /// <summary>Internal members of public SDK types the tool may use, as Type.Member.</summary>
    private static readonly HashSet<string> AllowedInternalMembers = new(StringComparer.Ordinal)
    {
        "Flow.Sdk.FlowClient.GetFlow", // the client over a datastore the tool opened (--datastore)
    };

    [Fact]
    public void Tool_UsesPublicSdkApi_AndOnlyTheNamedInternalSurface()
    {
        var (types, members) = InternalSdkReferences();

        types.Except(AllowedInternalTypes).ShouldBeEmpty("internal SDK types the tool uses outside the named surface");
        members.Except(AllowedInternalMembers).ShouldBeEmpty("internal SDK members the tool uses outside the named surface");
    }

    [Fact]
    public void TheCheck_SeesTheToolsReferences()
    {
        // Guards the check itself: the tool certainly uses these.
        InternalSdkReferences().Types.ShouldContain("Flow.Sdk.Datastore.FlowDatastore");
    }

    private static (HashSet<string> Types, HashSet<string> Members) InternalSdkReferences()
    {
        var sdk = typeof(FlowSpec).Assembly;
        using var stream = File.OpenRead(typeof(Flow.Cli.Program).Assembly.Location);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var names = new Dictionary<TypeReferenceHandle, Type>();
        foreach (var handle in md.TypeReferences)
        {
            if (Resolve(md, handle, sdk) is { } type)
            {
                names[handle] = type;
            }
        }
        var types = names.Values.Where(t => !IsVisible(t)).Select(t => t.FullName!).ToHashSet(StringComparer.Ordinal);
        var members = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in md.MemberReferences)
        {
            var member = md.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference || !names.TryGetValue((TypeReferenceHandle)member.Parent, out var owner) || !IsVisible(owner))
            {
                continue;
            }
            var name = md.GetString(member.Name);
            var candidates = owner.GetMember(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance);
            if (candidates.Length > 0 && candidates.All(c => !IsPublic(c)))
            {
                members.Add($"{owner.FullName}.{name}");
            }
        }
        return (types, members);
    }

    private static Type? Resolve(MetadataReader md, TypeReferenceHandle handle, Assembly sdk)
    {
        var reference = md.GetTypeReference(handle);
        var name = md.GetString(reference.Name);
        switch (reference.ResolutionScope.Kind)
        {
            case HandleKind.AssemblyReference:
                var assembly = md.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope);
                if (md.GetString(assembly.Name) != sdk.GetName().Name)
                {
                    return null;
                }
                var ns = md.GetString(reference.Namespace);
                return sdk.GetType(ns.Length == 0 ? name : ns + "." + name);
            case HandleKind.TypeReference:
                return Resolve(md, (TypeReferenceHandle)reference.ResolutionScope, sdk)?.GetNestedType(name, BindingFlags.Public | BindingFlags.NonPublic);
            default:
                return null;
        }
    }

    private static bool IsVisible(Type type) => type.IsPublic || (type.IsNestedPublic && IsVisible(type.DeclaringType!));

    private static bool IsPublic(MemberInfo member) => member switch
    {
        MethodBase method => method.IsPublic || method.IsFamily,
        FieldInfo field => field.IsPublic,
        PropertyInfo property => property.GetMethod?.IsPublic == true || property.SetMethod?.IsPublic == true,
        Type nested => nested.IsNestedPublic,
        _ => true,
    };
}
