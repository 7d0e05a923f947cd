// One server's tools/list pages → the tools exposed to guests, and those refused with a reason.
// A server is not trusted to list sanely: pages can loop, names repeat or run to megabytes,
// schemas can be huge or not compile. Every bound here is named with the threat it stops.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ArgumentCheck, ArgumentValidator } from "./arguments.ts";
import { assignAliases, displayName, MAX_TOOL_NAME_CHARS } from "./names.ts";
import type { JsonSchema, McpTool, SkippedMcpTool } from "./schemas.ts";

/** Descriptions go into LLM prompts: a 1 MB description would blow the prompt, so longer ones are cut. */
export const MAX_DESCRIPTION_CHARS = 4000;
/** Schemas are compiled into code on the host and rendered into prompts; larger ones are refused. */
export const MAX_SCHEMA_BYTES = 256 * 1024;
/** Threat: a server answering every page with a fresh cursor forever. */
const MAX_PAGES = 1000;

export interface ListedTool {
  tool: McpTool;
  check: ArgumentCheck;
}

export interface Listing {
  tools: ListedTool[];
  skipped: SkippedMcpTool[];
}

/** Every page's tools, and why the listing was cut short (null when it ended normally). */
async function allPages(
  client: Client,
  maxTools: number,
  signal: AbortSignal,
  timeout: number,
): Promise<{ tools: Tool[]; cut: string | null }> {
  const tools: Tool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.listTools(cursor === undefined ? {} : { cursor }, { signal, timeout });
    tools.push(...res.tools);
    // One extra tool is kept so "more than maxTools" can be reported rather than silently cut.
    if (tools.length > maxTools) return { tools, cut: `more than ${maxTools} tools listed` };
    cursor = res.nextCursor;
    if (cursor === undefined) return { tools, cut: null };
    if (seen.has(cursor)) return { tools, cut: "the tool listing repeated a page cursor" };
    seen.add(cursor);
  }
  return { tools, cut: `the tool listing ran past ${MAX_PAGES} pages` };
}

function schemaSize(schema: unknown): number {
  return schema === undefined ? 0 : Buffer.byteLength(JSON.stringify(schema));
}

function refusal(t: Tool, names: Set<string>): string | null {
  if (t.name.length === 0 || t.name.length > MAX_TOOL_NAME_CHARS) return `tool names are 1 to ${MAX_TOOL_NAME_CHARS} characters`;
  if (names.has(t.name)) return "duplicate tool name (the first one listed is kept)";
  if (schemaSize(t.inputSchema) + schemaSize(t.outputSchema) > MAX_SCHEMA_BYTES) return `schemas larger than ${MAX_SCHEMA_BYTES} bytes`;
  return null;
}

function cutDescription(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return d.length > MAX_DESCRIPTION_CHARS ? `${d.slice(0, MAX_DESCRIPTION_CHARS - 3)}...` : d;
}

export async function listServerTools(
  server: string,
  client: Client,
  validator: ArgumentValidator,
  limits: { maxTools: number; signal: AbortSignal; timeoutMs: number },
): Promise<Listing> {
  const { tools: raw, cut } = await allPages(client, limits.maxTools, limits.signal, limits.timeoutMs);
  const skipped: SkippedMcpTool[] = [];
  const kept: Array<{ t: Tool; check: ArgumentCheck }> = [];
  const names = new Set<string>();
  for (const t of raw) {
    if (kept.length >= limits.maxTools) break;
    let reason = refusal(t, names);
    let check: ArgumentCheck | undefined;
    if (reason === null) {
      try {
        check = validator.compile(t.inputSchema as JsonSchema, `${server}.${displayName(t.name)}`);
      } catch (e) {
        reason = `input schema does not compile: ${displayName(e instanceof Error ? e.message : String(e))}`;
      }
    }
    if (reason !== null || check === undefined) {
      skipped.push({ server, name: displayName(t.name), reason: reason ?? "unusable" });
      continue;
    }
    names.add(t.name);
    kept.push({ t, check });
  }
  if (cut !== null) skipped.push({ server, name: "(the rest)", reason: cut });
  const aliases = assignAliases(kept.map((k) => k.t.name));
  const tools = kept.map(({ t, check }, i): ListedTool => {
    const description = cutDescription(t.description);
    const tool: McpTool = { server, name: t.name, alias: aliases[i]!, inputSchema: t.inputSchema as JsonSchema };
    if (description !== undefined) tool.description = description;
    if (t.outputSchema !== undefined) tool.outputSchema = t.outputSchema as JsonSchema;
    return { tool, check };
  });
  return { tools, skipped };
}
