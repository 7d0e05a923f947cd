// Python capability calls the host cannot accept (a name over 1024 characters, arguments over
// 9 MiB of JSON) are refused at once, not dropped on the way so the guest waits its whole timeout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { pyAttack } from "./python-helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({
    concurrency: 1,
    warm: { javascript: 0, python: 1 },
    bindings: { echo: { input: z.object({ x: z.string() }), handler: (args) => (args as { x: string }).x.length } },
  });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

const raw = (name: string, args: string) =>
  [
    "import _isobox_calls, json, time",
    "t = time.monotonic()",
    `answer = json.loads(_isobox_calls.call("binding", ${name}, ${args}))`,
    "[answer.get('ok'), answer.get('name'), answer.get('message', '')[:120], round(time.monotonic() - t, 1)]",
  ].join("\n");

describe("oversized Python capability calls", () => {
  it("a call whose name is 2,000 characters is refused at once (it was dropped, and the guest waited 30 s)", async () => {
    const { r } = await pyAttack(sandbox, { code: raw(`"x" * 2000`, `"{}"`), limits: { timeoutMs: 20_000, bindingTimeoutMs: 10_000 } });
    expect(r.status).toBe("ok");
    const [ok, name, message, seconds] = r.value as [boolean, string, string, number];
    expect([ok, name]).toEqual([false, "BindingError"]);
    expect(message).toMatch(/name is longer than 1024/);
    expect(seconds).toBeLessThan(2);
  }, 60_000);

  it("a call with 10 MiB of arguments is refused at once, naming the limit", async () => {
    const args = `json.dumps({"x": "a" * (10 * 2**20)})`;
    const { r } = await pyAttack(sandbox, { code: raw(`"echo"`, args), limits: { timeoutMs: 20_000, bindingTimeoutMs: 10_000 } });
    expect(r.status).toBe("ok");
    const [ok, name, message, seconds] = r.value as [boolean, string, string, number];
    expect([ok, name]).toEqual([false, "BindingError"]);
    expect(message).toMatch(/arguments are larger than/);
    expect(seconds).toBeLessThan(2);
  }, 60_000);

  it("an ordinary call still works after them", async () => {
    const { r } = await pyAttack(sandbox, { code: "from isobox import host\nhost.echo(x='abc')" });
    expect(r).toMatchObject({ status: "ok", value: 3 });
  }, 30_000);
});
