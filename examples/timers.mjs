// Top-level await and timers work; everything is bounded by the job's wall-clock limit.
const started = Date.now();
await new Promise((resolve) => setTimeout(resolve, 20));
const encoded = btoa(new TextDecoder().decode(new TextEncoder().encode("isobox")));
console.log(`waited ${Date.now() - started >= 20 ? "at least" : "less than"} 20 ms`);
export default { encoded, decoded: atob(encoded) };
