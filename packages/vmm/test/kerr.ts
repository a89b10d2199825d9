// The one assertion every test file needs: `fn` throws a KernelError with errno `code`.
import { KernelError } from "@kbridge/uapi";
import { expect } from "vitest";

/** Runs `fn`, expects a {@link KernelError} with `code`, and returns it for more checks. */
export function kerr(fn: () => unknown, code: string): KernelError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KernelError);
  expect((err as KernelError).code).toBe(code);
  return err as KernelError;
}
