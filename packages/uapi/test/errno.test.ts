import { describe, expect, it } from "vitest";
import { readJsonVector } from "../../../test-support/vectors.js";
import {
  ERRNO_TABLE,
  Errno,
  errnoEntry,
  errnoName,
  errnoNumber,
  isErrnoCode,
  isErrValue,
  KernelError,
  MAX_ERRNO,
  strerror,
} from "../src/index.js";

interface ErrnoVector {
  errnos: { name: string; errno: number; message?: string; aliasOf?: string }[];
  kernelInternal: { errnos: { name: string; errno: number }[] };
}

const vector = readJsonVector<ErrnoVector>("uapi", "errno.json");

describe("errno table against vectors/uapi/errno.json", () => {
  const primaries = vector.errnos.filter((e) => e.aliasOf === undefined);

  it("has all 133 user-visible names: 131 numbers (1..133 without 41 and 58) and 2 aliases", () => {
    expect(vector.errnos).toHaveLength(133);
    expect(primaries).toHaveLength(131);
    const visible = ERRNO_TABLE.filter((e) => !e.internal);
    expect(visible).toHaveLength(131);
    // The kernel's aliases EWOULDBLOCK and EDEADLOCK, plus glibc's ENOTSUP (95, = EOPNOTSUPP).
    expect(visible.flatMap((e) => e.aliases).sort()).toEqual(["EDEADLOCK", "ENOTSUP", "EWOULDBLOCK"]);
    expect(errnoNumber("ENOTSUP")).toBe(95);
    expect(errnoName(95)).toBe("EOPNOTSUPP");
  });

  it.each(primaries)("$name = $errno, '$message'", ({ name, errno, message }) => {
    expect(Errno[name as keyof typeof Errno]).toBe(errno);
    expect(errnoName(errno)).toBe(name);
    expect(errnoNumber(name)).toBe(errno);
    expect(strerror(errno)).toBe(message);
    expect(errnoEntry(errno)).toMatchObject({ name, errno, message, internal: false });
  });

  it.each(vector.errnos.filter((e) => e.aliasOf !== undefined))(
    "alias $name of $aliasOf",
    ({ name, aliasOf, errno }) => {
      expect(Errno[name as keyof typeof Errno]).toBe(errno);
      expect(errnoName(errno)).toBe(aliasOf);
      expect(errnoEntry(name)?.name).toBe(aliasOf);
      expect(errnoEntry(aliasOf!)?.aliases).toContain(name);
    },
  );

  it.each(vector.kernelInternal.errnos)(
    "kernel-internal $name = $errno never visible to user space",
    ({ name, errno }) => {
      // The vector spells 518 EOPENSTALEDATA; include/linux/errno.h names it EOPENSTALE. The kernel wins.
      const kernelName = name === "EOPENSTALEDATA" ? "EOPENSTALE" : name;
      expect(errnoEntry(errno)).toMatchObject({ name: kernelName, internal: true });
      expect(strerror(errno)).toBe(`Unknown error ${errno}`);
    },
  );

  it("has exactly the numbers of the vector and no other", () => {
    const expected = [...primaries, ...vector.kernelInternal.errnos]
      .map((e) => e.errno)
      .sort((a, b) => a - b);
    expect(ERRNO_TABLE.map((e) => e.errno)).toEqual(expected);
  });
});

describe("errno lookups", () => {
  it("prints 0 and unknown numbers as glibc does", () => {
    expect(strerror(0)).toBe("Success");
    expect(strerror(-1)).toBe("Unknown error -1");
    expect(() => strerror(1.5)).toThrow(/EINVAL: strerror: errno 1.5 is not an integer/);
    expect(() => strerror("x" as never)).toThrow(/errno x is not an integer/);
    expect(strerror(41)).toBe("Unknown error 41"); // the hole between ELOOP 40 and ENOMSG 42
    expect(strerror(4096)).toBe("Unknown error 4096");
    expect(errnoName(41)).toBeUndefined();
  });

  it("knows names, aliases and kernel-internal names", () => {
    expect(isErrnoCode("EWOULDBLOCK")).toBe(true);
    expect(isErrnoCode("ENOIOCTLCMD")).toBe(true);
    expect(isErrnoCode("EFOO")).toBe(false);
    expect(() => errnoNumber("EFOO")).toThrow(/EINVAL: unknown errno name "EFOO"/);
  });

  it("models IS_ERR_VALUE with MAX_ERRNO 4095", () => {
    expect(MAX_ERRNO).toBe(4095);
    expect(isErrValue(-1)).toBe(true);
    expect(isErrValue(-4095)).toBe(true);
    expect(isErrValue(-4096)).toBe(false);
    expect(isErrValue(0)).toBe(false);
    expect(isErrValue(-1.5)).toBe(false);
  });
});

describe("KernelError", () => {
  it("carries errno, code, syscall and op and names them in the message", () => {
    const e = new KernelError("EFAULT", "user pointer 0x10 is not mapped", {
      syscall: "read",
      op: "copy_to_user",
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("KernelError");
    expect(e.errno).toBe(14);
    expect(e.code).toBe("EFAULT");
    expect(e.syscall).toBe("read");
    expect(e.op).toBe("copy_to_user");
    expect(e.detail).toBe("user pointer 0x10 is not mapped");
    expect(e.message).toBe("EFAULT: read: copy_to_user: user pointer 0x10 is not mapped");
    expect(e.description).toBe("Bad address");
    expect(e.toReturn()).toBe(-14);
  });

  it("accepts numbers and keeps the alias the caller used", () => {
    expect(new KernelError(11, "x").code).toBe("EAGAIN");
    expect(new KernelError("EWOULDBLOCK", "x").code).toBe("EWOULDBLOCK");
    expect(new KernelError("EWOULDBLOCK", "x").errno).toBe(11);
  });

  it("is() matches by errno, aliases included", () => {
    const e = new KernelError("EAGAIN", "queue empty");
    expect(KernelError.is(e)).toBe(true);
    expect(KernelError.is(e, "EWOULDBLOCK")).toBe(true);
    expect(KernelError.is(e, 11)).toBe(true);
    expect(KernelError.is(e, "EINTR")).toBe(false);
    expect(KernelError.is(new Error("EAGAIN"), "EAGAIN")).toBe(false);
    expect(KernelError.is(undefined)).toBe(false);
  });

  it("converts to and from negative return codes", () => {
    const e = KernelError.fromReturn(-25, "no such ioctl", { syscall: "ioctl" });
    expect(e.code).toBe("ENOTTY");
    expect(e.message).toBe("ENOTTY: ioctl: no such ioctl");
    expect(KernelError.fromReturn(-14).detail).toBe("Bad address");
    expect(KernelError.fromReturn(-515).code).toBe("ENOIOCTLCMD");
  });

  it("rejects what is no errno with EINVAL naming the value", () => {
    expect(() => KernelError.fromReturn(14)).toThrow(
      /EINVAL: KernelError.fromReturn: 14 is not a negative errno/,
    );
    expect(() => KernelError.fromReturn(-41)).toThrow(/EINVAL: KernelError: 41 is not a Linux errno/);
    expect(() => new KernelError("EBOGUS" as "EINVAL", "x")).toThrow(/"EBOGUS" is not a Linux errno/);
  });

  it("is one type across copies of the package (ESM and CJS builds), and subclasses keep instanceof", async () => {
    // A second, separately evaluated copy of the module stands in for the other build.
    const { vi } = await import("vitest");
    vi.resetModules();
    const copy = "../src/errno.js?copy";
    const other = (await import(/* @vite-ignore */ copy)) as typeof import("../src/errno.js");
    const foreign = new other.KernelError("EINVAL", "from the other copy");
    expect(other.KernelError).not.toBe(KernelError);
    expect(foreign instanceof KernelError).toBe(true);
    expect(KernelError.is(foreign, "EINVAL")).toBe(true);
    class DriverError extends KernelError {}
    expect(new DriverError("EIO", "x") instanceof DriverError).toBe(true);
    expect(new KernelError("EIO", "x") instanceof DriverError).toBe(false);
    expect(new KernelError("EIO", "x").constructor.name).toBe("KernelError");
    expect({} instanceof KernelError).toBe(false);
  });

  it("keeps the cause", () => {
    const cause = new Error("inner");
    expect(new KernelError("EIO", "outer", { cause }).cause).toBe(cause);
  });
});
