namespace FlashMoBA.Cli.Engines;

/// <summary>Computes a <see cref="RunProblem"/>. Engines are one file each, found by <see cref="RunEngines"/>.</summary>
internal interface IRunEngine
{
    /// <summary>Name given to <c>--engine</c>.</summary>
    string Name { get; }

    /// <summary>Preference when <c>--engine</c> is not given: the highest wins.</summary>
    int Priority { get; }

    /// <summary>One line saying what runs where, printed before computing.</summary>
    string Describe(Commands.RunOptions options);

    /// <summary>Runs forward (and backward when <see cref="RunProblem.DOut"/> is set).</summary>
    RunResult Execute(RunProblem problem, Commands.RunOptions options);
}
