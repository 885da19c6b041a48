using System.Runtime.CompilerServices;

// ILGPU builds kernel launchers in a dynamic assembly named "ILGPURuntime"; it must see the internal
// argument structs and kernels of this runner.
[assembly: InternalsVisibleTo("ILGPURuntime")]
