// examples/dma-mmap-device: the source article's case 2 as written (each mistake reported) and done right.
import { articleAsWritten, doneRight, missingSync, uaccessClaims } from "@kbridge/example-dma-mmap-device";
import { mistakesInBrief, type Stop } from "../tour.js";

/** The dma-mmap-device example stop. */
export const dmaMmapDeviceStop: Stop = {
  title: "examples/dma-mmap-device — the article's case 2, as written and done right",
  lines: () => [
    "As written:",
    ...articleAsWritten(),
    ...missingSync(),
    ...uaccessClaims(),
    "",
    "Done right:",
    ...doneRight(),
  ],
  brief: () => [
    ...mistakesInBrief([...articleAsWritten(), ...missingSync(), ...uaccessClaims()], "dma-mmap-device"),
    "",
    "Done right:",
    ...doneRight(),
  ],
};
