// A tool's CallToolResult → the value a guest gets. The order is the brief's: structuredContent if
// present, else the first text block parsed as JSON, else that text, else the raw content array.
// `isError: true` becomes an McpCallError carrying only the tool's own text (redacted).
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { McpCallError, type SecretRedactor } from "./errors.ts";

function firstText(content: CallToolResult["content"]): string | undefined {
  for (const block of content) if (block.type === "text") return block.text;
  return undefined;
}

export function unwrapToolResult(result: CallToolResult, label: string, redactor: SecretRedactor): unknown {
  const content = Array.isArray(result.content) ? result.content : [];
  if (result.isError === true) {
    const text = firstText(content);
    throw new McpCallError("tool_error", redactor.redact(text && text.trim() !== "" ? text : `${label} failed`));
  }
  if (result.structuredContent !== undefined && result.structuredContent !== null) return result.structuredContent;
  const text = firstText(content);
  if (text === undefined) return content;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
