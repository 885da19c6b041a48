namespace FlashMoBA.Cli;

/// <summary>Bad arguments or input files found after parsing; becomes exit code 2 and a one-line reason.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception with a one-line reason.</summary>
    public UsageException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line reason and its cause.</summary>
    public UsageException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Wraps a library validation error, keeping its rule but not the "(Parameter ...)" suffix.</summary>
    /// <param name="error">The library's exception.</param>
    /// <param name="subject">What the user gave, e.g. "--top-k" or "q.npy".</param>
    public static UsageException From(ArgumentException error, string subject)
    {
        string message = error.Message;
        int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (suffix >= 0) message = message[..suffix];
        return new UsageException($"{subject}: {message}", error);
    }
}
