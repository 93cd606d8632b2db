namespace Flow.Sdk;

/// <summary>
/// Namespaces for <see cref="FlowClient.Namespace"/>: a namespace is a tag that the runs a client sees must carry.
/// By default a client sees the current user's runs; <c>FlowClient.Namespace = Namespace.Global</c> sees every run.
/// </summary>
public static class Namespace
{
    /// <summary>No namespace: every run of every user.</summary>
    public const string? Global = null;

    /// <summary>Gets the current user's namespace, <c>user:&lt;FLOW_USER or the OS user name&gt;</c>: the default.</summary>
    public static string Default => User(SdkInfo.User);

    /// <summary>A user's namespace, <c>user:&lt;name&gt;</c>.</summary>
    /// <param name="name">The user name.</param>
    /// <returns>The namespace tag.</returns>
    public static string User(string name) => "user:" + name;
}

/// <summary>What a user tag may be.</summary>
internal static class TagRules
{
    public const int MaxLength = 500;
    public const int MaxTags = 50;

    private static readonly string[] SystemPrefixes = ["user:", "runtime:", "sdk_version:"];

    public static void Check(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (tag.Length is 0 or > MaxLength || string.IsNullOrWhiteSpace(tag) || tag.Any(char.IsControl))
        {
            throw new FlowException($"Tag '{(tag.Length > 40 ? tag[..40] + "..." : tag)}' is invalid: a tag has 1 to {MaxLength} characters, not only spaces, and no control characters.");
        }
        if (SystemPrefixes.Any(p => tag.StartsWith(p, StringComparison.Ordinal)))
        {
            throw new FlowException($"Tag '{tag}' is reserved: tags starting with {string.Join(", ", SystemPrefixes)} are system tags, set only by the run itself.");
        }
    }
}
