#!/usr/bin/env node
// The faultline command: runs the compiled CLI (built by `npm run build`, or by `npm ci` via `prepare`).
import { cli } from "../dist/cli/main.js";

await cli();
