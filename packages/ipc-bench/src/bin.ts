#!/usr/bin/env node
// The kbridge-bench executable: runs the CLI on the process's arguments.
import { main } from "./cli.js";

// A reader that stops early (`kbridge-bench run | head`) closes the pipe: that is the end, not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

// Ctrl-C or a kill ends the process through exit, so that a host run's peers and temporary files go with it.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

process.exitCode = await main(
  process.argv.slice(2),
  (s) => process.stdout.write(`${s}\n`),
  (s) => process.stderr.write(`${s}\n`),
  process.stderr.isTTY === true,
);
