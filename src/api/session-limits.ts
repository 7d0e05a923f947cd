// A session's guest is sized when it starts (an isolate's memory cap, a container's memory cgroup and
// tmpfs; runsc cannot resize a running container). A later run asking for other sizes is refused
// with this message, never silently run under the old ones. Shared by both backends.

export function sessionMemoryMessage(had: number, asked: number): string {
  return `limits.memoryMb: this session's guest was started with ${had} MB and keeps it for every run (asked for ${asked}); end the session with endSession(id) to change it`;
}

export function sessionFsMessage(had: number, asked: number): string {
  return `limits.maxFsBytes: this session's container was started with ${had} bytes of files and keeps it for every run (asked for ${asked}); end the session with endSession(id) to change it`;
}
