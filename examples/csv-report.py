# isobox-args: --file sales.csv=examples/data/sales.csv
# A code-interpreter style job: read the input CSV from the cwd (/home/user), summarise it, write a
# Markdown report and a CSV of totals to output/ (they come back in the result's `files`), and
# return the headline numbers as the value.
import csv
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate  # an offline pure-Python wheel, unpacked on first import

rows = list(csv.DictReader(open("sales.csv", newline="")))
by_region = defaultdict(float)
units = defaultdict(int)
for r in rows:
    revenue = int(r["units"]) * float(r["unit_price"])
    by_region[r["region"]] += revenue
    units[r["product"]] += int(r["units"])

table = sorted(by_region.items(), key=lambda kv: -kv[1])
out = Path("output")
with open(out / "totals.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["region", "revenue"])
    w.writerows((region, f"{revenue:.2f}") for region, revenue in table)
(out / "report.md").write_text(
    "# Sales report\n\n"
    + tabulate([(r, f"{v:.2f}") for r, v in table], headers=["region", "revenue"], tablefmt="github")
    + f"\n\nBest-selling product: **{max(units, key=units.get)}** ({max(units.values())} units)\n"
)
print(tabulate(table, headers=["region", "revenue"], floatfmt=".2f"))

{"rows": len(rows), "revenue": round(sum(by_region.values()), 2), "top_region": table[0][0]}
