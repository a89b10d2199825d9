import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "es2022",
    // No keepNames: it wraps every named closure in __name() (a defineProperty each time one is created), which
    // halved the simulated kernel's speed; the few classes the bundle renames (`_KernelError`) set their own name.
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
  },
]);
