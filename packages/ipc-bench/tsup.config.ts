import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  // Keep class names (KernelError, not _KernelError) in stack traces and `constructor.name`.
  keepNames: true,
});
