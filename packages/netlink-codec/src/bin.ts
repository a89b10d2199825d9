#!/usr/bin/env node
// The nlcodec executable: runs the CLI on the process's arguments.
import { main } from "./cli.js";

process.exitCode = main(
  process.argv.slice(2),
  (s) => process.stdout.write(`${s}\n`),
  (s) => process.stderr.write(`${s}\n`),
);
