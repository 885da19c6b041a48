using CommandLine;

namespace FlashMoBA.Cli.Commands;

/// <summary>Options of <c>flashmoba info</c>.</summary>
[Verb("info", HelpText = "List the accelerators found (name, architecture, multiprocessors, memory, driver) and the default one.")]
internal sealed class InfoOptions
{
}
