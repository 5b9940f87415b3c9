/**
 * fp16 graphs on the CPU (issue 15): ONNX Runtime has few fp16 CPU kernels and runs the rest in fp32 with casts
 * around them — measured on full-size SD 1.5 (README "Benchmarks"): the fp16 UNet's step slower than the fp32
 * one's and its process no smaller. The engine warns with this text; the extension's status item shows it.
 */
export const FP16_ON_CPU_WARNING = 'this model is fp16 and runs on the CPU, where ONNX Runtime computes fp16 in fp32 with '
  + 'conversions around it: slower, and no smaller in memory, than the fp32 version of the model (fp32 is the CPU choice; fp16 is for GPUs)';

/** Whether a result's warnings say its fp16 model ran on the CPU. */
export function ranFp16OnCpu(warnings: readonly string[]): boolean {
  return warnings.includes(FP16_ON_CPU_WARNING);
}
