namespace Flow.Sdk;

/// <summary>
/// Marks an init-only property of a flow as an included file: the option (<c>--name PATH</c>, or
/// <c>FLOW_RUN_NAME</c>, or <see cref="Default"/>) names a local file whose content is stored in the datastore
/// when the run starts; every step reads that stored copy, never the file again.
/// </summary>
/// <remarks>
/// The property's type says how the content is held: <see cref="string"/> (text, decoded with
/// <see cref="Encoding"/>), <c>byte[]</c>, or <see cref="IncludedFile"/> (a stream and the original name; large
/// files are never held in memory). Without a path the property is empty ("", no bytes, an empty file).
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class IncludeFileAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="IncludeFileAttribute"/> class with the default option name.</summary>
    public IncludeFileAttribute()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="IncludeFileAttribute"/> class.</summary>
    /// <param name="name">The command-line name of the option, without the leading dashes.</param>
    public IncludeFileAttribute(string name) => Name = name;

    /// <summary>Gets the command-line name given explicitly, if any.</summary>
    public string? Name { get; }

    /// <summary>Gets or sets the path used when the option is not given, relative to the folder the run starts in.</summary>
    public string? Default { get; set; }

    /// <summary>Gets or sets the help text shown by <c>dotnet flow run --help</c> and <c>show</c>.</summary>
    public string? Help { get; set; }

    /// <summary>Gets or sets a value indicating whether a run must be given a file.</summary>
    public bool Required { get; set; }

    /// <summary>Gets or sets the text encoding of a <see cref="string"/> property (default <c>utf-8</c>).</summary>
    public string Encoding { get; set; } = "utf-8";
}
