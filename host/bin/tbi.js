#!/usr/bin/env node
// The `tbi` executable: runs the compiled CLI. Kept as plain JS so it works without a build step
// of its own; `reflect-metadata` must load before tsyringe.
import 'reflect-metadata';
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
