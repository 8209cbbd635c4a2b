#!/usr/bin/env -S node --no-node-snapshot
// The `tbi` executable: runs the compiled CLI. Kept as plain JS so it works without a build step
// of its own; `reflect-metadata` must load before tsyringe. isolated-vm asks for
// --no-node-snapshot on Node >= 20 (Node refuses it in NODE_OPTIONS, hence the shebang).
import 'reflect-metadata';
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
