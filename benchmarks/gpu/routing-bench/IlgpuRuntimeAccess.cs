using System.Runtime.CompilerServices;

// ILGPU builds kernel launchers in a dynamic assembly named "ILGPURuntime"; it must see the harness's
// internal kernel arguments (the device random fill).
[assembly: InternalsVisibleTo("ILGPURuntime")]
