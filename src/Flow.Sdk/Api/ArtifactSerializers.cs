using System.Collections.Concurrent;
using System.Reflection;

namespace Flow.Sdk;

/// <summary>
/// Stores values of one type as bytes of your choosing (an ML model in its own file format, a data frame as
/// Parquet), used both when an artifact is written and when it is read; its <see cref="Name"/> is recorded with
/// every artifact it wrote.
/// </summary>
/// <typeparam name="T">The type it stores; an artifact whose declared or actual type is (or derives from) it uses it.</typeparam>
/// <remarks>
/// Register it for the whole assembly with <c>[assembly: ArtifactSerializer(typeof(MySerializer))]</c> (found by the
/// flow's tasks and by clients that read the type), or call <see cref="ArtifactSerializers.Register{T}"/>.
/// Writing streams straight into the datastore, and reading streams from it, so values larger than memory work.
/// </remarks>
public interface IArtifactSerializer<T>
{
    /// <summary>Gets the name recorded with the artifact (for example <c>mlnet-model</c>); keep it stable across versions.</summary>
    string Name { get; }

    /// <summary>Writes the value.</summary>
    /// <param name="value">The value, never null.</param>
    /// <param name="destination">The stream to write to (do not dispose it).</param>
    void Write(T value, Stream destination);

    /// <summary>Reads a value written by <see cref="Write"/>.</summary>
    /// <param name="source">The stored bytes, verified against their hash as they are read (do not dispose it).</param>
    /// <returns>The value.</returns>
    T Read(Stream source);
}

/// <summary>Registers an <see cref="IArtifactSerializer{T}"/> for every flow and client that loads this assembly.</summary>
/// <param name="serializerType">A class implementing <see cref="IArtifactSerializer{T}"/> with a public parameterless constructor.</param>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ArtifactSerializerAttribute(Type serializerType) : Attribute
{
    /// <summary>Gets the serializer's type.</summary>
    public Type SerializerType { get; } = serializerType;
}

/// <summary>The artifact serializers known to this process.</summary>
public static class ArtifactSerializers
{
    private static readonly ConcurrentDictionary<Type, Entry> s_byType = new();
    private static readonly ConcurrentDictionary<string, Entry> s_byName = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Assembly, bool> s_scanned = new();

    /// <summary>Uses <paramref name="serializer"/> for values of <typeparamref name="T"/> in this process.</summary>
    /// <typeparam name="T">The type it stores.</typeparam>
    /// <param name="serializer">The serializer.</param>
    public static void Register<T>(IArtifactSerializer<T> serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        if (string.IsNullOrWhiteSpace(serializer.Name) || serializer.Name.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"Serializer {serializer.GetType().FullName} needs a Name without spaces.", nameof(serializer));
        }
        var entry = new Entry(serializer.Name, typeof(T), (value, stream) => serializer.Write((T)value, stream), stream => serializer.Read(stream));
        s_byType[typeof(T)] = entry;
        s_byName[serializer.Name] = entry;
    }

    internal sealed record Entry(string Name, Type Type, Action<object, Stream> Write, Func<Stream, object?> Read);

    /// <summary>The serializer for a value: its declared type's, its actual type's, or one for a base type or interface of it.</summary>
    /// <summary>The flow's own assembly, looked in like the entry assembly (which it is not when a tool hosts the run).</summary>
    internal static Assembly? FlowAssembly { get; set; }

    internal static Entry? For(Type declared, Type actual)
    {
        Scan(declared.Assembly);
        Scan(actual.Assembly);
        Scan(Assembly.GetEntryAssembly());
        Scan(FlowAssembly);
        if (s_byType.IsEmpty)
        {
            return null;
        }
        if (s_byType.TryGetValue(declared, out var entry) || s_byType.TryGetValue(actual, out entry))
        {
            return entry;
        }
        return s_byType.Values.Where(e => e.Type.IsAssignableFrom(actual)).OrderBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>The serializer recorded as <paramref name="name"/>, looking in the assembly of the type asked for.</summary>
    internal static Entry? Named(string name, Type requested)
    {
        Scan(requested.Assembly);
        Scan(Assembly.GetEntryAssembly());
        Scan(FlowAssembly);
        return s_byName.GetValueOrDefault(name);
    }

    private static void Scan(Assembly? assembly)
    {
        if (assembly is null || assembly.IsDynamic || !s_scanned.TryAdd(assembly, true))
        {
            return;
        }
        foreach (var attribute in assembly.GetCustomAttributes<ArtifactSerializerAttribute>())
        {
            var type = attribute.SerializerType;
            var contract = type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IArtifactSerializer<>))
                ?? throw new FlowException($"[assembly: ArtifactSerializer(typeof({type.FullName}))] names a type that does not implement IArtifactSerializer<T>.");
            var instance = Activator.CreateInstance(type)
                ?? throw new FlowException($"Serializer {type.FullName} could not be created; give it a public parameterless constructor.");
            typeof(ArtifactSerializers).GetMethod(nameof(Register))!.MakeGenericMethod(contract.GetGenericArguments()[0]).Invoke(null, [instance]);
        }
    }
}
