using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text;

namespace Flow.Build.Tasks;

/// <summary>
/// A fingerprint of each step's code (docs/resume.md, "Resume after an edit"): the SHA-256 of the step method's IL
/// and of every method of the project it reaches (calls, lambdas, local functions, async and iterator state
/// machines), with each metadata token replaced by the name it stands for. So an edit of the step, or of code it
/// calls in the project, changes its fingerprint; a comment, formatting, or an edit elsewhere does not.
/// </summary>
internal static class StepFingerprints
{
    /// <summary>The most methods one fingerprint follows (a step reaching more is fingerprinted by the first ones).</summary>
    private const int MaxMethods = 5000;

    /// <summary>The fingerprints of the steps of the flow class <paramref name="flow"/>, by step name.</summary>
    public static Dictionary<string, string> Read(string assemblyPath, string flow, IEnumerable<string> stepNames)
    {
        var steps = stepNames.ToHashSet(StringComparer.Ordinal);
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var type = reader.TypeDefinitions.Select(reader.GetTypeDefinition)
            .Where(t => reader.GetString(t.Name) == flow)
            .FirstOrDefault(t => t.GetMethods().Any(m => reader.GetString(reader.GetMethodDefinition(m).Name) == "Start"));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (type.Equals(default(TypeDefinition)))
        {
            return result;
        }
        var stepMethods = type.GetMethods().Where(m => steps.Contains(reader.GetString(reader.GetMethodDefinition(m).Name))).ToHashSet();
        foreach (var method in stepMethods)
        {
            // Another step named in Next(...) is a target, not code this step runs: it is named, not followed.
            result[reader.GetString(reader.GetMethodDefinition(method).Name)] = Fingerprint(pe, reader, method, stepMethods);
        }
        return result;
    }

    private static string Fingerprint(PEReader pe, MetadataReader reader, MethodDefinitionHandle root, HashSet<MethodDefinitionHandle> steps)
    {
        var text = new StringBuilder();
        var seen = new HashSet<MethodDefinitionHandle>();
        var queue = new Queue<MethodDefinitionHandle>([root]);
        void Follow(MethodDefinitionHandle method)
        {
            if (!steps.Contains(method) && seen.Count < MaxMethods && seen.Add(method))
            {
                queue.Enqueue(method);
            }
        }
        void FollowType(TypeDefinitionHandle type)
        {
            // An async or iterator state machine, or a closure's display class, belongs to the one method that uses
            // it. (The class-wide lambda cache <>c is not followed whole: its lambdas are reached one by one.)
            var definition = reader.GetTypeDefinition(type);
            var name = reader.GetString(definition.Name);
            if (name.StartsWith("<>c__DisplayClass", StringComparison.Ordinal) || (name.StartsWith('<') && name.Contains(">d__", StringComparison.Ordinal)))
            {
                foreach (var method in definition.GetMethods())
                {
                    Follow(method);
                }
            }
        }
        seen.Add(root);
        while (queue.Count > 0)
        {
            var handle = queue.Dequeue();
            var method = reader.GetMethodDefinition(handle);
            text.Append('#').Append(Name(reader, handle)).Append('\n');
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }
            var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
            while (il.RemainingBytes > 0)
            {
                int code = il.ReadByte();
                if (code == 0xFE)
                {
                    code = 0xFE00 | il.ReadByte();
                }
                text.Append(code.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
                switch (OperandSize(code))
                {
                    case Operand.Token:
                        var token = MetadataTokens.EntityHandle(il.ReadInt32());
                        text.Append(TokenText(reader, token, Follow, FollowType)).Append(' ');
                        break;
                    case Operand.String:
                        text.Append('"').Append(reader.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32()))).Append("\" ");
                        break;
                    case Operand.Switch:
                        var count = il.ReadInt32();
                        for (var i = 0; i < count; i++)
                        {
                            text.Append(il.ReadInt32()).Append(',');
                        }
                        break;
                    case var size:
                        for (var i = 0; i < (int)size; i++)
                        {
                            text.Append(il.ReadByte().ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                        }
                        text.Append(' ');
                        break;
                }
            }
            text.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    /// <summary>What a token stands for, by name; a method or type of this assembly is followed.</summary>
    private static string TokenText(MetadataReader reader, EntityHandle token, Action<MethodDefinitionHandle> follow, Action<TypeDefinitionHandle> followType)
    {
        switch (token.Kind)
        {
            case HandleKind.MethodDefinition:
                var method = (MethodDefinitionHandle)token;
                follow(method);
                followType(reader.GetMethodDefinition(method).GetDeclaringType());
                return Name(reader, method);
            case HandleKind.MethodSpecification:
                var spec = reader.GetMethodSpecification((MethodSpecificationHandle)token);
                return "spec:" + TokenText(reader, spec.Method, follow, followType);
            case HandleKind.MemberReference:
                var member = reader.GetMemberReference((MemberReferenceHandle)token);
                return ParentName(reader, member.Parent) + "::" + reader.GetString(member.Name);
            case HandleKind.FieldDefinition:
                var field = reader.GetFieldDefinition((FieldDefinitionHandle)token);
                followType(field.GetDeclaringType());
                return TypeName(reader, field.GetDeclaringType()) + "::" + reader.GetString(field.Name);
            case HandleKind.TypeDefinition:
                followType((TypeDefinitionHandle)token);
                return TypeName(reader, (TypeDefinitionHandle)token);
            case HandleKind.TypeReference:
                var reference = reader.GetTypeReference((TypeReferenceHandle)token);
                return reader.GetString(reference.Namespace) + "." + reader.GetString(reference.Name);
            default:
                return token.Kind.ToString();
        }
    }

    private static string ParentName(MetadataReader reader, EntityHandle parent) => parent.Kind switch
    {
        HandleKind.TypeReference => reader.GetString(reader.GetTypeReference((TypeReferenceHandle)parent).Name),
        HandleKind.TypeDefinition => TypeName(reader, (TypeDefinitionHandle)parent),
        HandleKind.TypeSpecification => "spec",
        _ => parent.Kind.ToString(),
    };

    private static string Name(MetadataReader reader, MethodDefinitionHandle handle)
    {
        var method = reader.GetMethodDefinition(handle);
        return TypeName(reader, method.GetDeclaringType()) + "::" + reader.GetString(method.Name) + "/" + reader.GetBlobReader(method.Signature).Length;
    }

    private static string TypeName(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var declaring = type.GetDeclaringType();
        var name = reader.GetString(type.Namespace) + "." + reader.GetString(type.Name);
        return declaring.IsNil ? name : TypeName(reader, declaring) + "+" + name;
    }

    private enum Operand
    {
        None = 0,
        One = 1,
        Two = 2,
        Four = 4,
        Eight = 8,
        Token = 100,
        String = 101,
        Switch = 102,
    }

    /// <summary>The operand of an IL opcode (ECMA-335, Partition III).</summary>
    private static Operand OperandSize(int code) => code switch
    {
        // short branches, ldarg.s/ldarga.s/starg.s, ldloc.s/ldloca.s/stloc.s, ldc.i4.s, unaligned.
        >= 0x2B and <= 0x37 => Operand.One,
        0x0E or 0x0F or 0x10 or 0x11 or 0x12 or 0x13 or 0x1F or 0xDE or 0xFE12 => Operand.One,
        // long branches, ldc.i4, leave.
        >= 0x38 and <= 0x44 => Operand.Four,
        0x20 or 0xDD => Operand.Four,
        0x22 => Operand.Four, // ldc.r4
        0x21 or 0x23 => Operand.Eight, // ldc.i8, ldc.r8
        0x45 => Operand.Switch,
        0x72 => Operand.String, // ldstr
        // jmp, call, calli, callvirt, cpobj, ldobj, newobj, castclass, isinst, unbox, ldfld, ldflda, stfld, ldsfld,
        // ldsflda, stsfld, stobj, box, newarr, ldelema, ldelem, stelem, unbox.any, refanyval, mkrefany, ldtoken.
        0x27 or 0x28 or 0x29 or 0x6F or 0x70 or 0x71 or 0x73 or 0x74 or 0x75 or 0x79 or 0x7B or 0x7C or 0x7D or 0x7E
            or 0x7F or 0x80 or 0x81 or 0x8C or 0x8D or 0x8F or 0xA3 or 0xA4 or 0xA5 or 0xC2 or 0xC6 or 0xD0 => Operand.Token,
        // ldftn, ldvirtftn, initobj, constrained., sizeof.
        0xFE06 or 0xFE07 or 0xFE15 or 0xFE16 or 0xFE1C => Operand.Token,
        // ldarg, ldarga, starg, ldloc, ldloca, stloc.
        0xFE09 or 0xFE0A or 0xFE0B or 0xFE0C or 0xFE0D or 0xFE0E => Operand.Two,
        // no. (0xFE19) takes one byte.
        0xFE19 => Operand.One,
        _ => Operand.None,
    };
}
