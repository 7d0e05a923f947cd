// A small MCP server for the glue-code example: stock levels and reorder requests, over stdio.
// Run by `isobox run examples/mcp-glue.js --mcp inventory=examples/mcp/inventory-server.ts`.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const stock: Record<string, number> = { widget: 4, gadget: 40, gizmo: 0 };
const server = new McpServer({ name: "inventory", version: "1.0.0" });

server.registerTool(
  "stock_level",
  {
    description: "Units in stock for a product.",
    inputSchema: { product: z.string() },
    outputSchema: { product: z.string(), units: z.number() },
  },
  async ({ product }) => {
    const out = { product, units: stock[product] ?? 0 };
    return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
  },
);
server.registerTool(
  "reorder",
  {
    description: "Places a reorder; answers with the order id.",
    inputSchema: { product: z.string(), units: z.number().int().min(1).max(1000) },
  },
  async ({ product, units }) => ({
    content: [{ type: "text", text: JSON.stringify({ orderId: `PO-${product}-${units}`, product, units }) }],
  }),
);

await server.connect(new StdioServerTransport());
