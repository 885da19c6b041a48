#!/usr/bin/env python3
"""Writes Lanes.g.cs: the per-thread fp32 register vectors and weight taps of the key convolution.

ILGPU does not unroll loops and keeps loop-indexed local arrays in local memory, so a thread's
channels must be scalar fields with the per-lane code written out. This script writes it out.
Run from this folder: python3 generate_lanes.py
"""

WIDTHS = (2, 8)


def lanes(n):
    fields = [f"F{i}" for i in range(n)]
    pairs = n // 2
    out = []
    w = out.append
    w(f"/// <summary>{n} fp32 channels held by one thread: one register per field.</summary>")
    w("[StructLayout(LayoutKind.Sequential)]")
    w(f"internal struct Lanes{n}")
    w("{")
    w("    /// <summary>Channel values, lowest channel first.</summary>")
    w(f"    public float {', '.join(fields)};")
    w("")
    w("    /// <summary>a * b + c per channel.</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static Lanes{n} MulAdd(Lanes{n} a, Lanes{n} b, Lanes{n} c)")
    w("    {")
    w(f"        Lanes{n} r;")
    for f in fields:
        w(f"        r.{f} = a.{f} * b.{f} + c.{f};")
    w("        return r;")
    w("    }")
    w("")
    w("    /// <summary>a * b per channel.</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static Lanes{n} Mul(Lanes{n} a, Lanes{n} b)")
    w("    {")
    w(f"        Lanes{n} r;")
    for f in fields:
        w(f"        r.{f} = a.{f} * b.{f};")
    w("        return r;")
    w("    }")
    w("")
    w("    /// <summary>a + b per channel.</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static Lanes{n} Add(Lanes{n} a, Lanes{n} b)")
    w("    {")
    w(f"        Lanes{n} r;")
    for f in fields:
        w(f"        r.{f} = a.{f} + b.{f};")
    w("        return r;")
    w("    }")
    w("")
    for name, doc in (("Silu", "x * sigmoid(x)"), ("SiluDerivative", "d/dx SiLU(x)")):
        w(f"    /// <summary>{doc} per channel (see <see cref=\"SiluMath\"/>).</summary>")
        w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
        w(f"    public static Lanes{n} {name}(Lanes{n} x)")
        w("    {")
        w(f"        Lanes{n} r;")
        for f in fields:
            w(f"        r.{f} = SiluMath.{name}(x.{f});")
        w("        return r;")
        w("    }")
        w("")
    w(f"    /// <summary>Widens {n} packed 16-bit values to fp32.</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static Lanes{n} Unpack<TElem>(PackedHalves{n} packed)")
    w("        where TElem : struct, IElementOps")
    w("    {")
    w(f"        Lanes{n} r;")
    for p in range(pairs):
        w(f"        r.F{2 * p} = default(TElem).Lo(packed.P{p});")
        w(f"        r.F{2 * p + 1} = default(TElem).Hi(packed.P{p});")
    w("        return r;")
    w("    }")
    w("")
    w(f"    /// <summary>Rounds {n} fp32 values to packed 16-bit values (nearest even).</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static PackedHalves{n} Pack<TElem>(Lanes{n} values)")
    w("        where TElem : struct, IElementOps")
    w("    {")
    w(f"        PackedHalves{n} r;")
    for p in range(pairs):
        w(f"        r.P{p} = default(TElem).Pack(values.F{2 * p}, values.F{2 * p + 1});")
    w("        return r;")
    w("    }")
    w("}")
    w("")
    w(f"/// <summary>{n} fp16 or bf16 values as {pairs} 32-bit pairs ({2 * n} bytes: one vector load).</summary>")
    w("[StructLayout(LayoutKind.Sequential)]")
    w(f"internal struct PackedHalves{n}")
    w("{")
    w("    /// <summary>Pairs, lowest channel in the low half of P0.</summary>")
    w(f"    public uint {', '.join(f'P{p}' for p in range(pairs))};")
    w("}")
    return out


def taps(n):
    L = f"Lanes{n}"
    out = []
    w = out.append
    w(f"/// <summary>One {L} per tap (W ≤ 5): a thread\'s weights, or its weight-gradient sums.</summary>")
    w(f"internal struct ConvTaps{n}")
    w("{")
    w("    /// <summary>Weights w_ℓ, ℓ = 0 multiplying the current token; taps ≥ W stay zero.</summary>")
    w(f"    public {L} W0, W1, W2, W3, W4;")
    w("")
    w(f"    /// <summary>Loads the taps of 8-channel... group <paramref name=\"group\"/> from weights <c>[W, groups]</c>.</summary>".replace("8-channel... ", f"{n}-channel "))
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public static ConvTaps{n} Load<TWidth>(ArrayView<{L}> weights, int groups, int group)")
    w("        where TWidth : struct, IConvWidth")
    w("    {")
    w(f"        ConvTaps{n} t = default;")
    w("        t.W0 = weights[group];")
    w("        t.W1 = weights[groups + group];")
    w("        t.W2 = weights[2 * groups + group];")
    w("        if (default(TWidth).Taps == 5)")
    w("        {")
    w("            t.W3 = weights[3 * groups + group];")
    w("            t.W4 = weights[4 * groups + group];")
    w("        }")
    w("        return t;")
    w("    }")
    w("")
    w("    /// <summary>Σ_ℓ w_ℓ ⊙ x_ℓ where x_ℓ is the token ℓ rows back (the causal convolution).</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public readonly {L} Convolve<TWidth>({L} x0, {L} x1, {L} x2, {L} x3, {L} x4)")
    w("        where TWidth : struct, IConvWidth")
    w("    {")
    w(f"        {L} sum = {L}.Mul(W0, x0);")
    w(f"        sum = {L}.MulAdd(W1, x1, sum);")
    w(f"        sum = {L}.MulAdd(W2, x2, sum);")
    w("        if (default(TWidth).Taps == 5)")
    w("        {")
    w(f"            sum = {L}.MulAdd(W3, x3, sum);")
    w(f"            sum = {L}.MulAdd(W4, x4, sum);")
    w("        }")
    w("        return sum;")
    w("    }")
    w("")
    w("    /// <summary>W_ℓ += g ⊙ x_ℓ for ℓ &lt; W: accumulates the weight gradient of one token.</summary>")
    w("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w(f"    public void Accumulate<TWidth>({L} g, {L} x0, {L} x1, {L} x2, {L} x3, {L} x4)")
    w("        where TWidth : struct, IConvWidth")
    w("    {")
    w(f"        W0 = {L}.MulAdd(g, x0, W0);")
    w(f"        W1 = {L}.MulAdd(g, x1, W1);")
    w(f"        W2 = {L}.MulAdd(g, x2, W2);")
    w("        if (default(TWidth).Taps == 5)")
    w("        {")
    w(f"            W3 = {L}.MulAdd(g, x3, W3);")
    w(f"            W4 = {L}.MulAdd(g, x4, W4);")
    w("        }")
    w("    }")
    w("}")
    return out


def main():
    lines = [
        "// <auto-generated>",
        "// Generated by src/FlashMoBA.Kernels/KeyConv/generate_lanes.py; edit the script, not this file.",
        "// </auto-generated>",
        "using System.Runtime.CompilerServices;",
        "using System.Runtime.InteropServices;",
        "using FlashMoBA.Kernels.Primitives;",
        "using ILGPU;",
        "",
        "namespace FlashMoBA.Kernels.KeyConv;",
        "",
    ]
    for i, n in enumerate(WIDTHS):
        if i:
            lines.append("")
        lines.extend(lanes(n))
        lines.append("")
        lines.extend(taps(n))
    with open("Lanes.g.cs", "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
