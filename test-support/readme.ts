// Runs the first ```ts block of a package README with the package's own source standing in for the published
// package, and returns what it printed next to what its `console.log(…); // …` comments say it prints.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { vi } from "vitest";

/** What a README example printed and what its comments promise, line by line. */
export interface ReadmeRun {
  /** The text after `// ` on every `console.log(…)` line, in order. */
  readonly expected: string[];
  /** What the example printed (bigints as `5n`, as the console shows them). */
  readonly printed: string[];
}

/**
 * @param readme - URL of the README.md
 * @param packageName - the name the example imports from (`@kbridge/uapi`)
 * @param source - the package's own module (`await import("../src/index.js")`)
 * @param others - other packages the example imports from, by name (`{ "@kbridge/vmm": await import("@kbridge/vmm") }`)
 */
export function runReadmeExample(
  readme: URL,
  packageName: string,
  source: Record<string, unknown>,
  others: Record<string, Record<string, unknown>> = {},
): ReadmeRun {
  const text = readFileSync(readme, "utf8");
  const snippet = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
  if (snippet === undefined) throw new Error(`${readme.pathname} has no \`\`\`ts example`);
  const expected = snippet
    .split("\n")
    .filter((l) => /console\.log\(.*\/\/ /.test(l))
    .map((l) => l.slice(l.lastIndexOf("// ") + 3));
  // Each `import { … } from "<package>";` becomes a destructuring of the module handed in for that package.
  const modules: Record<string, Record<string, unknown>> = { ...others, [packageName]: source };
  let code = snippet;
  const bindings: string[] = [];
  for (const [name, i] of Object.keys(modules).map((n, k) => [n, k] as const)) {
    const escaped = name.replace(/[/.]/g, "\\$&");
    const imports = new RegExp(`^import \\{([^}]*?)\\} from "${escaped}";\\n`, "m").exec(code);
    if (imports === null) {
      if (name === packageName) throw new Error(`the example does not import from ${packageName}`);
      continue;
    }
    // `type X` imports vanish with the types. (`[^}]` keeps the match inside one import statement.)
    const names = imports[1]!
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "" && !n.startsWith("type "));
    bindings.push(`const {${names.join(", ")}} = mods[${i}];`);
    code = code.replace(imports[0], "");
  }
  // The example is TypeScript (`find(…)!`); strip the types as a reader's compiler would.
  const body = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const printed: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === "bigint" ? `${a}n` : String(a))).join(" "));
  });
  try {
    new Function("mods", `${bindings.join("\n")}\n${body}`)(Object.values(modules));
  } finally {
    spy.mockRestore();
  }
  return { expected, printed };
}
