#!/usr/bin/env -S node --no-node-snapshot --max-semi-space-size=4
// The `tbi` executable: runs the compiled CLI. Kept as plain JS so it works without a build step
// of its own. isolated-vm asks for --no-node-snapshot on Node >= 20 (Node refuses that flag in
// NODE_OPTIONS, hence the shebang). The version check comes before any import that would fail
// on an old Node (node:sqlite) with a less helpful message.
// --max-semi-space-size=4: V8's young generation is 16 MiB semi-spaces by default; the host's
// messages in flight outlive a scavenge or two anyway, and with the default the heap peaked
// about 120 MB higher in a backlog drain at the same CPU per message (README, "Memory and
// stalls"). The testkit's startHostProcess reads these flags, so tests run the host this way too.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`tbi needs Node.js 22 or later (24 recommended); this is Node.js ${process.versions.node}.`);
  process.exit(1);
}
await import('reflect-metadata'); // must load before tsyringe
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
