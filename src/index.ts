// The package's public surface (API.md): the library door and the contract's shapes.
export { createSandbox, type Sandbox } from "./api/sandbox.ts";
export { SandboxOptionsSchema, type SandboxOptions } from "./api/options.ts";
export { JobSchema, type Bindings, type BindingContext, type Job, type Json, type Language } from "./contract/job.ts";
export { LimitsSchema, type Limits } from "./contract/limits.ts";
export { RunResultSchema, type GuestError, type RunResult, type Status, type Usage } from "./contract/result.ts";
export { GUEST_ERROR_NAMES } from "./contract/outcomes.ts";
export { IsoboxError, type IsoboxErrorCode } from "./contract/errors.ts";
export type { BindingCallEvent } from "./bindings/dispatcher.ts";
