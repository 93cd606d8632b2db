namespace System.Runtime.CompilerServices;

/// <summary>Lets netstandard2.0 code declare records and init-only members.</summary>
internal static class IsExternalInit
{
}
