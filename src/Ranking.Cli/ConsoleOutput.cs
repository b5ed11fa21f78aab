using Spectre.Console;

namespace Ranking.Cli;

/// <summary>
/// A Spectre console bound to the current <see cref="Console.Out"/> (not the one captured when Spectre first
/// started), so in-process tests and redirected output see what a command prints. Colours and live
/// progress only when the output is a terminal.
/// </summary>
internal static class ConsoleOutput
{
    public static IAnsiConsole Create()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Redirected output has no width; wide enough that tables of names and numbers do not wrap.
        if (!IsTerminal) console.Profile.Width = 200;
        return console;
    }

    /// <summary>True when stdout is a real terminal (not redirected, not captured by a test).</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;
}
