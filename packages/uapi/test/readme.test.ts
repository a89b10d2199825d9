// The README's example runs, and prints what its comments say.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const snippet = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;

describe("README example", () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints what each `console.log(…); // …` comment says", async () => {
    const expected = snippet
      .split("\n")
      .filter((l) => /console\.log\(.*\/\/ /.test(l))
      .map((l) => l.slice(l.lastIndexOf("// ") + 3));
    expect(expected.length).toBeGreaterThan(5);
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === "bigint" ? `${a}n` : String(a))).join(" "));
    });
    const src = await import("../src/index.js");
    const imports = /^import \{([\s\S]*?)\} from "@kbridge\/uapi";\n/m.exec(snippet)!;
    const body = snippet.replace(imports[0], "");
    // The snippet, with the package's own source standing in for the published package.
    const run = new Function("uapi", `const {${imports[1]}} = uapi;\n${body}`);
    run(src);
    expect(printed).toEqual(expected);
  });
});
