# A data-wrangling job: the input is a list of orders; print a summary table, return totals as JSON.
orders = input or [
    {"customer": "ada", "amount": 120.0},
    {"customer": "bob", "amount": 35.5},
    {"customer": "ada", "amount": 14.5},
]
totals = {}
for o in orders:
    totals[o["customer"]] = totals.get(o["customer"], 0) + o["amount"]
for name, amount in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"{name:<8}{amount:>10.2f}")
{"customers": len(totals), "total": sum(totals.values())}
