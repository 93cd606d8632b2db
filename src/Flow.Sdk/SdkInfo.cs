using System.Reflection;

namespace Flow.Sdk;

/// <summary>Facts about this build of the SDK.</summary>
internal static class SdkInfo
{
    public static readonly string Version =
        typeof(SdkInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string User =>
        Environment.GetEnvironmentVariable("FLOW_USER") is { Length: > 0 } user ? user : Environment.UserName;
}
