// The README's example runs, and prints what its comments say.
import { expect, it } from "vitest";
import { runReadmeExample } from "../../../test-support/readme.js";

it("the README example prints what each `console.log(…); // …` comment says", async () => {
  const { expected, printed } = runReadmeExample(
    new URL("../README.md", import.meta.url),
    "@kbridge/ipc-bench",
    await import("../src/index.js"),
  );
  expect(expected.length).toBeGreaterThanOrEqual(3);
  expect(printed).toEqual(expected);
});
