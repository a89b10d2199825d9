// examples/genl-family: a module's generic netlink family, resolved by name, answering bad requests exactly.
import { genlFamilyLines } from "@kbridge/example-genl-family";
import type { Stop } from "../tour.js";

/** The genl-family example stop. */
export const genlFamilyStop: Stop = {
  title: "examples/genl-family — a generic netlink family with a policy and the kernel's extended acks",
  lines: genlFamilyLines,
};
