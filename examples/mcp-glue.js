// isobox-args: --mcp inventory=examples/mcp/inventory-server.ts
// AI-agent glue code: call an MCP server's tools (the server and any credentials stay on the host;
// the guest only sees host.<server>.<tool>) and return JSON.
import * as host from "isobox:host";

export default async function main() {
  const products = ["widget", "gadget", "gizmo"];
  const levels = await Promise.all(products.map((product) => host.inventory.stock_level({ product })));
  const low = levels.filter((l) => l.units < 10);
  const orders = [];
  for (const l of low) orders.push(await host.inventory.reorder({ product: l.product, units: 50 - l.units }));
  console.log(`${low.length} of ${products.length} products below 10 units`);
  return { levels, orders };
}
