namespace FlashMoBA.Kernels.Runtime;

/// <summary>
/// Owns the device buffers of an object under construction: if an allocation fails part-way, disposing
/// the scope frees what was already allocated; once the object holds them, <see cref="Release"/> hands
/// them over and disposing the scope does nothing.
/// </summary>
internal sealed class AllocationScope : IDisposable
{
    private List<IDisposable>? owned = [];

    /// <summary>Records <paramref name="item"/> as owned by the scope and returns it.</summary>
    public TItem Track<TItem>(TItem item)
        where TItem : IDisposable
    {
        ObjectDisposedException.ThrowIf(owned is null, this);
        owned.Add(item);
        return item;
    }

    /// <summary>Hands everything tracked to <paramref name="owner"/> and returns it.</summary>
    public TOwner Release<TOwner>(TOwner owner)
    {
        owned = null;
        return owner;
    }

    /// <summary>Frees everything tracked, unless it was released.</summary>
    public void Dispose()
    {
        if (owned is null) return;
        foreach (var item in owned) item.Dispose();
        owned = null;
    }
}
