// Validates a guest's tool arguments against the tool's input JSON Schema *before* the server sees
// them (the brief: invalid → refused on the host, server never called). ajv is the validator: well
// kept, supports draft-07 and 2020-12 (the MCP default dialect), and compiles each schema once.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { RE2JS } from "re2js";
import type { JsonSchema } from "./schemas.ts";

// ajv-formats ships CJS with `exports.default`; under nodenext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv | Ajv2020) => void;

export type ArgumentCheck = (args: unknown) => string | null;

/**
 * `pattern`/`patternProperties` run on the host against guest-chosen strings, with patterns a server
 * chose. Threat: `^(a+)+$` and a crafted argument freezing the embedder's event loop (ReDoS). RE2
 * (re2js: pure JS, linear time) runs them instead of V8's backtracking engine. A pattern RE2 cannot
 * express (lookaround, backreferences) is not checked on the host; the server still checks it.
 */
function re2Engine(pattern: string): { test: (s: string) => boolean; toString: () => string } {
  // toString is ajv's cache key for compiled patterns: it must differ per pattern.
  try {
    const re = RE2JS.compile(pattern);
    return { test: (s) => re.test(s), toString: () => `re2:${pattern}` };
  } catch {
    return { test: () => true, toString: () => `unchecked:${pattern}` };
  }
}
re2Engine.code = "re2Engine"; // ajv requires it; only used by standalone code generation, which is not used here

const OPTIONS = {
  code: { regExp: re2Engine },
  strict: false, // servers use keywords ajv does not know (examples, x-*): ignore, do not fail
  allErrors: false, // threat: allErrors on hostile data is a documented ajv DoS; the first error is enough
  addUsedSchema: false, // two tools with the same $id must not collide in one ajv instance
  logger: false as const, // a hostile schema must not write to the embedder's console
  validateFormats: true,
};

/** Compiles input schemas of every server's tools; one instance per McpTools, dropped with it. */
export class ArgumentValidator {
  readonly #draft7 = new Ajv(OPTIONS);
  readonly #draft2020 = new Ajv2020(OPTIONS);
  constructor() {
    addFormats(this.#draft7);
    addFormats(this.#draft2020);
  }

  /** A checker returning null for valid arguments, else a message for the guest. Throws if the schema does not compile. */
  compile(schema: JsonSchema, label: string): ArgumentCheck {
    const { $schema, ...rest } = schema;
    // Draft-04/06/07 keep their meaning (`items` arrays, `definitions`); anything else is 2020-12.
    const older = typeof $schema === "string" && /draft-0[4-7]/.test($schema);
    const validate: ValidateFunction = (older ? this.#draft7 : this.#draft2020).compile(rest);
    return (args) => (validate(args) ? null : `invalid arguments for ${label}: ${formatErrors(validate.errors ?? [])}`);
  }
}

function formatErrors(errors: ErrorObject[]): string {
  return errors
    .slice(0, 3)
    .map((e) => {
      const where = e.instancePath === "" ? "arguments" : `arguments${e.instancePath}`;
      const extra =
        e.keyword === "additionalProperties"
          ? ` (${JSON.stringify((e.params as { additionalProperty?: string }).additionalProperty)})`
          : "";
      const allowed =
        e.keyword === "enum" ? `: ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues).slice(0, 200)}` : "";
      return `${where} ${e.message ?? "is invalid"}${allowed}${extra}`;
    })
    .join("; ");
}
