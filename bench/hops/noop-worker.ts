// Piscina task for the thread-hop floor: does nothing, returns 1.
export default function noop(): number {
  return 1;
}
