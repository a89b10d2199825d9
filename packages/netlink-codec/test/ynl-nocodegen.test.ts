// Where a Content-Security-Policy forbids compiling code from text, struct values decode through the loop
// fallback to the same values. (Its own file: whether code generation works is probed once per module.)
import { expect, it } from "vitest";
import { readDatagrams } from "../../../test-support/vectors.js";
import { attrsToObject, loadSpec, NetlinkFamily, parseDatagram, RT_LINK_SPEC } from "../src/index.js";

it("struct values decode the same without code generation", () => {
  const datagram = readDatagrams("netns1000-getlink-dump.bin")[0]!;
  const msg = parseDatagram(datagram)[1]!;
  const real = globalThis.Function;
  let refused = 0;
  globalThis.Function = function csp() {
    refused++;
    throw new EvalError("Refused to evaluate a string as JavaScript (unsafe-eval)");
  } as unknown as FunctionConstructor;
  let attrs: ReturnType<NetlinkFamily["decode"]>["attrs"];
  try {
    attrs = new NetlinkFamily(loadSpec(RT_LINK_SPEC)).decode(msg).attrs;
  } finally {
    globalThis.Function = real;
  }
  expect(refused).toBe(1);
  // Checked against DataView reads of the same bytes: stats64 is 25 u64, stats 24 u32, in member order.
  for (const [name, size] of [
    ["stats64", 8],
    ["stats", 4],
  ] as const) {
    const a = attrs.find((x) => x.name === name)!;
    const raw = a.raw!;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = Object.values(a.value as Record<string, unknown>);
    expect(values).toHaveLength(size === 8 ? 25 : 24);
    values.forEach((v, i) => {
      expect(v).toBe(size === 8 ? dv.getBigUint64(i * 8, true) : dv.getUint32(i * 4, true));
    });
  }
  const obj = attrsToObject(attrs) as { map: Record<string, unknown> };
  expect(obj.map).toEqual({ "mem-start": 0n, "mem-end": 0n, "base-addr": 0n, irq: 0, dma: 0, port: 0 });
});
