#!/usr/bin/env node
// The CLI entry point: everything else is in dist/ (built by `npm run build`, or by `prepare` on `npm ci`).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2), process.env);
