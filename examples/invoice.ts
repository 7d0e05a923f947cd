// TypeScript is transpiled with esbuild; errors point at these lines.
interface Line {
  sku: string;
  qty: number;
  price: number;
}

export function main(input: { lines?: Line[] } | undefined) {
  const lines: Line[] = input?.lines ?? [
    { sku: "A-1", qty: 2, price: 9.5 },
    { sku: "B-7", qty: 1, price: 120 },
  ];
  const total = lines.reduce((sum, l) => sum + l.qty * l.price, 0);
  const url = new URL("https://example.invalid/invoices");
  url.searchParams.set("total", total.toFixed(2));
  console.log(`${lines.length} lines, total ${total.toFixed(2)}`);
  return { total, link: url.href, id: crypto.randomUUID().length === 36 };
}
