using ILGPU;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// One query row's running top-k list of <see cref="TopKKey"/> keys, best first, held by one lane of
/// <see cref="FlashTopK"/>. Implementations are structs so the kernel compiles one body per kind.
/// </summary>
internal interface IRowTopK
{
    /// <summary>Empties the list and sets how many keys it keeps; a shared-memory list lives at
    /// <c>lists[start .. start + capacity)</c>, a register list ignores the view.</summary>
    void Reset(ArrayView<ulong> lists, int start, int capacity);

    /// <summary>The key a candidate must exceed to enter: the last kept key, 0 while not full.</summary>
    ulong Admission();

    /// <summary>Inserts <paramref name="key"/>, which must exceed <see cref="Admission"/>, dropping the last.</summary>
    void Insert(ulong key);

    /// <summary>The <paramref name="rank"/>-th best key (0 = best); 0 for an empty slot.</summary>
    ulong Key(int rank);
}

/// <summary>
/// A list of up to 8 keys in registers (scalar fields: ILGPU does not unroll loops, so an array would
/// live in local memory). Insertion is a branch-free pass of eight compare-exchanges; keys pushed past
/// the capacity fall into the spare slots and are never read.
/// </summary>
internal struct RegisterTopK8 : IRowTopK
{
    /// <summary>Largest capacity.</summary>
    public const int MaxCapacity = 8;

    private ulong k0, k1, k2, k3, k4, k5, k6, k7;
    private int capacity;
    private ulong admission;

    /// <inheritdoc/>
    public void Reset(ArrayView<ulong> lists, int start, int capacity)
    {
        k0 = k1 = k2 = k3 = k4 = k5 = k6 = k7 = 0ul;
        this.capacity = capacity;
        admission = 0ul;
    }

    /// <inheritdoc/>
    public readonly ulong Admission() => admission;

    /// <inheritdoc/>
    public void Insert(ulong key)
    {
        ulong carry = key, kept;
        kept = Max(k0, carry); carry = Min(k0, carry); k0 = kept;
        kept = Max(k1, carry); carry = Min(k1, carry); k1 = kept;
        kept = Max(k2, carry); carry = Min(k2, carry); k2 = kept;
        kept = Max(k3, carry); carry = Min(k3, carry); k3 = kept;
        kept = Max(k4, carry); carry = Min(k4, carry); k4 = kept;
        kept = Max(k5, carry); carry = Min(k5, carry); k5 = kept;
        kept = Max(k6, carry); carry = Min(k6, carry); k6 = kept;
        k7 = Max(k7, carry);
        admission = Key(capacity - 1);
    }

    /// <inheritdoc/>
    public readonly ulong Key(int rank) => rank switch
    {
        0 => k0,
        1 => k1,
        2 => k2,
        3 => k3,
        4 => k4,
        5 => k5,
        6 => k6,
        _ => k7,
    };

    private static ulong Max(ulong a, ulong b) => a > b ? a : b;

    private static ulong Min(ulong a, ulong b) => a > b ? b : a;
}

/// <summary>A list of any capacity (up to topK = 64) in the CTA's shared memory, kept sorted by insertion.</summary>
internal struct SharedTopK : IRowTopK
{
    private ArrayView<ulong> lists;
    private int start;
    private int capacity;
    private ulong admission;

    /// <inheritdoc/>
    public void Reset(ArrayView<ulong> lists, int start, int capacity)
    {
        this.lists = lists;
        this.start = start;
        this.capacity = capacity;
        admission = 0ul;
        for (int i = 0; i < capacity; i++)
            lists[start + i] = 0ul;
    }

    /// <inheritdoc/>
    public readonly ulong Admission() => admission;

    /// <inheritdoc/>
    public void Insert(ulong key) => admission = TopKKey.Insert(lists, start, capacity, key);

    /// <inheritdoc/>
    public readonly ulong Key(int rank) => lists[start + rank];
}
