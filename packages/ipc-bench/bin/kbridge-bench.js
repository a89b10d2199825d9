#!/usr/bin/env node
// The kbridge-bench command. A file kept in the repository (not in dist/), so that `npm ci` can link it before the
// first build; it runs the built program.
import "../dist/bin.js";
