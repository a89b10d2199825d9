// examples/netlink-multicast: the source article's case 1 as written (each mistake reported) and done right.
import { articleAsWritten, doneRight, netlinkClaims } from "@kbridge/example-netlink-multicast";
import type { Stop } from "../tour.js";

/** The netlink-multicast example stop. */
export const netlinkMulticastStop: Stop = {
  title: "examples/netlink-multicast — the article's case 1, as written and done right",
  lines: () => ["As written:", ...articleAsWritten(), ...netlinkClaims(), "", "Done right:", ...doneRight()],
};
