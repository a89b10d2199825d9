// examples/netlink-multicast: the source article's case 1 as written (each mistake reported) and done right.
import { articleAsWritten, doneRight, netlinkClaims } from "@kbridge/example-netlink-multicast";
import { mistakesInBrief, type Stop } from "../tour.js";

/** The netlink-multicast example stop. */
export const netlinkMulticastStop: Stop = {
  title: "examples/netlink-multicast — the article's case 1, as written and done right",
  lines: () => ["As written:", ...articleAsWritten(), ...netlinkClaims(), "", "Done right:", ...doneRight()],
  brief: () => {
    const right = doneRight();
    const trace = right.findIndex((l) => l.startsWith("the listener's system calls"));
    return [
      ...mistakesInBrief([...articleAsWritten(), ...netlinkClaims()], "netlink-multicast"),
      "",
      "Done right:",
      // The trace is in the full tour; the brief keeps what the listener got and the clean unload.
      ...(trace < 0 ? right : [...right.slice(0, trace).filter((l) => l !== ""), ...right.slice(-1)]),
    ];
  },
};
