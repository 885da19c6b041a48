using System.Runtime.CompilerServices;

// ILGPU builds kernel launchers in a dynamic assembly named "ILGPURuntime"; it must see the internal
// argument structs and kernels of the tests.
[assembly: InternalsVisibleTo("ILGPURuntime")]

// The GPU self-check (benchmarks/gpu/primitives-check) runs the same checks on a CUDA accelerator.
[assembly: InternalsVisibleTo("FlashMoBA.PrimitivesCheck")]
