// A logic function: main(input, ctx) is called with the job's input and returns JSON.
export default async function main(input, ctx) {
  console.log(`hello from job ${ctx.jobId.slice(0, 8)}`);
  const words = (input?.text ?? "the quick brown fox jumps over the lazy dog").split(/\s+/);
  const counts = {};
  for (const w of words) counts[w.length] = (counts[w.length] ?? 0) + 1;
  return { words: words.length, byLength: counts };
}
