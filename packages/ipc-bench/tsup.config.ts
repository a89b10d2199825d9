import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    // Keep class names (KernelError, not _KernelError) in stack traces and `constructor.name`.
    keepNames: true,
    // tinybench ships ESM only: bundled, so that the CommonJS build needs no require() of an ES module.
    noExternal: ["tinybench"],
  },
  {
    // The kbridge-bench executable: Node only, ESM, never imported by the library entry.
    entry: ["src/bin.ts"],
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    keepNames: true,
  },
]);
