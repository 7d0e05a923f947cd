#!/usr/bin/env node
// Bin shim: the compiled CLI when installed as a package, the TypeScript source in a checkout
// (Node 24 strips types itself; it refuses to do so under node_modules, hence dist/ there).
import { existsSync } from "node:fs";

const dist = new URL("../../dist/cli/main.js", import.meta.url);
const inCheckout = !import.meta.url.includes("/node_modules/");
const { main } = await import(inCheckout || !existsSync(dist) ? "./main.ts" : dist.href);
process.exitCode = await main(process.argv.slice(2));
