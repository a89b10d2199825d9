// errno lookups: errnoName and strerror against indexing a plain array by errno number.

import { ERRNO_TABLE, errnoName, strerror } from "../src/index.js";

// Every errno Linux defines (1…133 and the kernel-internal 512…531), cycled through 256 inputs.
const NUMBERS = ERRNO_TABLE.map((e) => e.errno);
const INPUTS: readonly number[] = Array.from({ length: 256 }, (_, k) => NUMBERS[k % NUMBERS.length]!);

// The baselines: dense arrays indexed by number, holding exactly what the functions return.
const MAX = Math.max(...NUMBERS);
const NAMES: readonly (string | undefined)[] = Array.from({ length: MAX + 1 }, (_, n) => errnoName(n));
const MESSAGES: readonly string[] = Array.from({ length: MAX + 1 }, (_, n) => strerror(n));

export default {
  group: "errno",
  tasks: {
    "errnoName(n)": (i: number) => errnoName(INPUTS[i & 255]!),
    "names[n] (baseline)": (i: number) => NAMES[INPUTS[i & 255]!],
    "strerror(n)": (i: number) => strerror(INPUTS[i & 255]!),
    "messages[n] (baseline)": (i: number) => MESSAGES[INPUTS[i & 255]!],
  },
  compare: [
    { name: "errnoName(n)", baseline: "names[n] (baseline)" },
    { name: "strerror(n)", baseline: "messages[n] (baseline)" },
  ],
};
