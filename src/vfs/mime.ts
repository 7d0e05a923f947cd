// MIME types of harvested output files, from the maintained `mime` database (not a hand table), so
// every backend labels the same file name the same way.
import mime from "mime";

export function mimeTypeFor(path: string): string {
  return mime.getType(path) ?? "application/octet-stream";
}
