export { createSandbox, type Sandbox } from "./api/sandbox.ts";
export type { Bindings, Job, Json, Language, Limits, RunResult, SandboxOptions, Status, GuestError, Usage } from "./api/schemas.ts";
export { JobSchema, LimitsSchema, RunResultSchema, SandboxOptionsSchema } from "./api/schemas.ts";
export { ContainerBackend, type ContainerJob } from "./container/backend.ts";
export type { BindingCallEvent } from "./bindings/dispatcher.ts";
