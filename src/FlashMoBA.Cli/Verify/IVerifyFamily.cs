namespace FlashMoBA.Cli.Verify;

/// <summary>
/// One kernel family checked by <c>flashmoba verify</c> against <c>FlashMoBA.Reference</c>. A family is
/// one file in this folder: a sealed class with a parameterless constructor implementing this
/// interface; <see cref="VerifyRegistry"/> finds it by reflection, nothing else needs editing.
/// </summary>
internal interface IVerifyFamily
{
    /// <summary>Name shown in the table and matched by <c>--family</c>, e.g. "dense-fwd".</summary>
    string Name { get; }

    /// <summary>Position in the table: pipeline order (key conv, router, dense, moba).</summary>
    int Order { get; }

    /// <summary>The cases to run at the requested sizes (typically a subset of <see cref="VerifyCases.Standard"/>).</summary>
    IEnumerable<VerifyCase> Cases(VerifySizes sizes);

    /// <summary>
    /// Runs one case on the session's accelerator with fresh seeded random inputs and compares every
    /// output with the float64 reference; one <see cref="VerifyCheck"/> per compared tensor.
    /// Throwing marks the case failed with the exception's message.
    /// </summary>
    IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase);
}
