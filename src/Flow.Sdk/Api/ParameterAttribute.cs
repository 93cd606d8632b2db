namespace Flow.Sdk;

/// <summary>
/// Marks an init-only property of a flow as a run parameter, set from the command line
/// (<c>--name value</c>), from the environment (<c>FLOW_RUN_NAME</c>) or from its initializer.
/// </summary>
/// <remarks>
/// Without an explicit name the option is the kebab-case of the property name (<c>NumTrees</c> becomes
/// <c>--num-trees</c>). Parameters are recorded with the run and visible in every step; they cannot be
/// assigned in a step.
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ParameterAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="ParameterAttribute"/> class with the default option name.</summary>
    public ParameterAttribute()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ParameterAttribute"/> class.</summary>
    /// <param name="name">The command-line name of the parameter, without the leading dashes.</param>
    public ParameterAttribute(string name) => Name = name;

    /// <summary>Gets the command-line name given explicitly, if any.</summary>
    public string? Name { get; }

    /// <summary>Gets or sets the help text shown by <c>dotnet flow run --help</c> and <c>show</c>.</summary>
    public string? Help { get; set; }

    /// <summary>Gets or sets a value indicating whether a run must be given a value.</summary>
    public bool Required { get; set; }

    /// <summary>
    /// Gets or sets the separator of a list parameter's items on the command line: with <c>","</c>,
    /// <c>--seeds 1,2,3</c> gives three items (a JSON array works too).
    /// </summary>
    public string? Separator { get; set; }
}
