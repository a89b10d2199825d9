import { expect, it } from "vitest";
import { canGenerateCode } from "../src/index.js";

it("canGenerateCode: Node allows compiling code from text, and the answer is probed once", () => {
  expect(canGenerateCode()).toBe(true);
  const real = globalThis.Function;
  globalThis.Function = (() => {
    throw new EvalError("unsafe-eval");
  }) as unknown as FunctionConstructor;
  try {
    expect(canGenerateCode()).toBe(true);
  } finally {
    globalThis.Function = real;
  }
});
