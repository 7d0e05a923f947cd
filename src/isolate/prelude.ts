// Assembles the guest prelude (runtimes/isolate/*.js) into one function expression and compiles it
// into fresh isolates with V8's code cache, so a new guest pays for running the prelude, not parsing it.
import { readFileSync } from "node:fs";
import ivm from "isolated-vm";

const FRAGMENTS = ["intrinsics", "console", "encoding", "url", "clone", "crypto", "timers", "runner", "lockdown"];
const BRIDGE = ["write", "armTimer", "cancelTimer", "randomBytes", "urlOp", "entryName"] as const;
export type BridgeName = (typeof BRIDGE)[number];
export const PRELUDE_FILENAME = "isobox:prelude";

function assemble(): string {
  const dir = new URL("../../runtimes/isolate/", import.meta.url);
  const body = FRAGMENTS.map((f) => readFileSync(new URL(`${f}.js`, dir), "utf8")).join("\n");
  return `(function (${BRIDGE.join(", ")}) {\n"use strict";\nconst bridge = { ${BRIDGE.join(", ")} };\n${body}\n})`;
}

const source = assemble();
let cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;

/** Compile the prelude into `isolate`; the first compile in this thread produces the code cache. */
export async function compilePrelude(isolate: ivm.Isolate): Promise<ivm.Script> {
  if (cachedData) {
    const script = await isolate.compileScript(source, { filename: PRELUDE_FILENAME, cachedData });
    if (!(script as unknown as { cachedDataRejected?: boolean }).cachedDataRejected) return script;
  }
  const script = (await isolate.compileScript(source, { filename: PRELUDE_FILENAME, produceCachedData: true })) as ivm.Script & ivm.CachedDataResult;
  if (script.cachedData) cachedData = script.cachedData;
  return script;
}

/** The order in which the host passes its callbacks to the prelude function. */
export const BRIDGE_ORDER = BRIDGE;
