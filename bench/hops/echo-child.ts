// Child for the IPC-hop floor: answers every message with itself (same fork options as isobox).
process.on("message", (m) => process.send?.(m));
process.on("disconnect", () => process.exit(0));
process.send?.({ t: "ready" });
