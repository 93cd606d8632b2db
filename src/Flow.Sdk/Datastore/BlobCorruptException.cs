namespace Flow.Sdk.Datastore;

/// <summary>A blob that is missing or whose bytes do not match its hash.</summary>
internal sealed class BlobCorruptException(string sha, string reason)
    : Exception($"blob {(sha.Length > 12 ? sha[..12] : sha)} is damaged: {reason}")
{
    public const string MissingReason = "the blob is missing";

    public string Sha { get; } = sha;

    /// <summary>Gets a value indicating whether the blob is absent (rather than present with wrong bytes).</summary>
    public bool Missing { get; } = reason == MissingReason;
}
