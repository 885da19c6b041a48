namespace FlashMoBA;

/// <summary>
/// A batch of variable-length sequences packed along the token axis, described FlashAttention-style
/// by prefix sums: sequence <c>b</c> owns query rows <c>[CuSeqlensQ[b], CuSeqlensQ[b+1])</c> and key
/// rows <c>[CuSeqlensK[b], CuSeqlensK[b+1])</c> (DESIGN.md §3). Immutable; host-side only.
/// </summary>
public sealed class VarlenBatch
{
    private readonly int[] _cuSeqlensQ;
    private readonly int[] _cuSeqlensK;
    private readonly int[] _lengthsQ;
    private readonly int[] _lengthsK;

    private VarlenBatch(int[] cuSeqlensQ, int[] cuSeqlensK)
    {
        _cuSeqlensQ = cuSeqlensQ;
        _cuSeqlensK = cuSeqlensK;
        _lengthsQ = Differences(cuSeqlensQ);
        _lengthsK = Differences(cuSeqlensK);
        MaxSeqlenQ = _lengthsQ.Max();
        MaxSeqlenK = _lengthsK.Max();
    }

    /// <summary>Number of sequences (≥ 1).</summary>
    public int Batch => _lengthsQ.Length;

    /// <summary>Query rows over the whole batch: the first dimension of q.</summary>
    public int TotalQ => _cuSeqlensQ[^1];

    /// <summary>Key rows over the whole batch: the first dimension of k and v.</summary>
    public int TotalK => _cuSeqlensK[^1];

    /// <summary>Longest query sequence.</summary>
    public int MaxSeqlenQ { get; }

    /// <summary>Longest key sequence.</summary>
    public int MaxSeqlenK { get; }

    /// <summary>Host copy of the query prefix sums, <c>[Batch + 1]</c>, starting at 0.</summary>
    public ReadOnlySpan<int> CuSeqlensQ => _cuSeqlensQ;

    /// <summary>Host copy of the key prefix sums, <c>[Batch + 1]</c>, starting at 0.</summary>
    public ReadOnlySpan<int> CuSeqlensK => _cuSeqlensK;

    /// <summary>Query length of each sequence, <c>[Batch]</c>.</summary>
    public ReadOnlySpan<int> LengthsQ => _lengthsQ;

    /// <summary>Key length of each sequence, <c>[Batch]</c>.</summary>
    public ReadOnlySpan<int> LengthsK => _lengthsK;

    /// <summary>True when every sequence has as many queries as keys (self-attention).</summary>
    public bool IsSelfAttention => _cuSeqlensQ.AsSpan().SequenceEqual(_cuSeqlensK);

    /// <summary>Builds a batch from query and key prefix sums.</summary>
    /// <param name="cuSeqlensQ">Query prefix sums <c>[batch+1]</c>: starts at 0, never decreases.</param>
    /// <param name="cuSeqlensK">Key prefix sums <c>[batch+1]</c>, same length as <paramref name="cuSeqlensQ"/>.</param>
    /// <exception cref="ArgumentException">An array has fewer than 2 elements, does not start at 0,
    /// holds a negative value or decreases, or the two lengths differ; ParamName names the array.</exception>
    public static VarlenBatch FromCuSeqlens(ReadOnlySpan<int> cuSeqlensQ, ReadOnlySpan<int> cuSeqlensK)
    {
        CheckCuSeqlens(cuSeqlensQ, nameof(cuSeqlensQ));
        CheckCuSeqlens(cuSeqlensK, nameof(cuSeqlensK));
        if (cuSeqlensK.Length != cuSeqlensQ.Length)
            throw new ArgumentException(
                $"cuSeqlensK must have the same length as cuSeqlensQ (batch + 1 = {cuSeqlensQ.Length}), but has {cuSeqlensK.Length}.",
                nameof(cuSeqlensK));
        return new VarlenBatch(cuSeqlensQ.ToArray(), cuSeqlensK.ToArray());
    }

    /// <summary>Builds a self-attention batch (the same prefix sums for queries and keys).</summary>
    /// <exception cref="ArgumentException">The array breaks a rule of <see cref="FromCuSeqlens(ReadOnlySpan{int}, ReadOnlySpan{int})"/>.</exception>
    public static VarlenBatch FromCuSeqlens(ReadOnlySpan<int> cuSeqlens)
    {
        CheckCuSeqlens(cuSeqlens, nameof(cuSeqlens));
        return new VarlenBatch(cuSeqlens.ToArray(), cuSeqlens.ToArray());
    }

    /// <summary>Builds a batch from per-sequence query and key lengths.</summary>
    /// <param name="lengthsQ">Query length of each sequence (≥ 0), at least one sequence.</param>
    /// <param name="lengthsK">Key length of each sequence (≥ 0), as many as <paramref name="lengthsQ"/>.</param>
    /// <exception cref="ArgumentException">Empty, a negative length, counts differ, or a total exceeds <see cref="int.MaxValue"/>.</exception>
    public static VarlenBatch FromLengths(ReadOnlySpan<int> lengthsQ, ReadOnlySpan<int> lengthsK)
    {
        int[] cuQ = PrefixSum(lengthsQ, nameof(lengthsQ));
        int[] cuK = PrefixSum(lengthsK, nameof(lengthsK));
        if (lengthsK.Length != lengthsQ.Length)
            throw new ArgumentException(
                $"lengthsK must have one entry per sequence like lengthsQ ({lengthsQ.Length}), but has {lengthsK.Length}.",
                nameof(lengthsK));
        return new VarlenBatch(cuQ, cuK);
    }

    /// <summary>Builds a self-attention batch from per-sequence lengths.</summary>
    /// <exception cref="ArgumentException">Empty, a negative length, or the total exceeds <see cref="int.MaxValue"/>.</exception>
    public static VarlenBatch FromLengths(ReadOnlySpan<int> lengths)
    {
        int[] cu = PrefixSum(lengths, nameof(lengths));
        return new VarlenBatch(cu, (int[])cu.Clone());
    }

    /// <summary>Builds <paramref name="batch"/> self-attention sequences of <paramref name="seqlen"/> tokens each.</summary>
    /// <exception cref="ArgumentException"><paramref name="batch"/> &lt; 1, <paramref name="seqlen"/> &lt; 0, or the total exceeds <see cref="int.MaxValue"/>.</exception>
    public static VarlenBatch Uniform(int batch, int seqlen)
    {
        if (batch < 1)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 1.");
        if (seqlen < 0)
            throw new ArgumentOutOfRangeException(nameof(seqlen), seqlen, "seqlen must be >= 0.");
        if ((long)batch * seqlen > int.MaxValue)
            throw new ArgumentException($"batch * seqlen = {(long)batch * seqlen} exceeds {int.MaxValue} tokens.", nameof(seqlen));
        var lengths = new int[batch];
        Array.Fill(lengths, seqlen);
        return FromLengths(lengths);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"VarlenBatch(batch={Batch}, totalQ={TotalQ}, totalK={TotalK}, maxSeqlenQ={MaxSeqlenQ}, maxSeqlenK={MaxSeqlenK})";

    private static void CheckCuSeqlens(ReadOnlySpan<int> cu, string paramName)
    {
        if (cu.Length < 2)
            throw new ArgumentException(
                $"{paramName} must have batch + 1 >= 2 elements, but has {cu.Length}.", paramName);
        if (cu[0] != 0)
            throw new ArgumentException($"{paramName}[0] must be 0, but is {cu[0]}.", paramName);
        for (int i = 1; i < cu.Length; i++)
        {
            if (cu[i] < 0)
                throw new ArgumentException($"{paramName}[{i}] must be >= 0, but is {cu[i]}.", paramName);
            if (cu[i] < cu[i - 1])
                throw new ArgumentException(
                    $"{paramName} must be non-decreasing, but {paramName}[{i}] = {cu[i]} < {paramName}[{i - 1}] = {cu[i - 1]}.",
                    paramName);
        }
    }

    private static int[] PrefixSum(ReadOnlySpan<int> lengths, string paramName)
    {
        if (lengths.IsEmpty)
            throw new ArgumentException($"{paramName} must hold at least one sequence length.", paramName);
        var cu = new int[lengths.Length + 1];
        long total = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] < 0)
                throw new ArgumentException($"{paramName}[{i}] must be >= 0, but is {lengths[i]}.", paramName);
            total += lengths[i];
            if (total > int.MaxValue)
                throw new ArgumentException($"{paramName} sums to more than {int.MaxValue} tokens.", paramName);
            cu[i + 1] = (int)total;
        }
        return cu;
    }

    private static int[] Differences(int[] cu)
    {
        var lengths = new int[cu.Length - 1];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = cu[i + 1] - cu[i];
        return lengths;
    }
}
