// The static import scanner behind `backend: "auto"` (no Docker needed).
import { describe, expect, it } from "vitest";
import type { AdmittedJob } from "../../src/contract/admitted.ts";
import { containerAccepts } from "../../src/container/backend.ts";
import { isolateAccepts } from "../../src/host/backend.ts";
import { importedModules, moduleNeedingContainer } from "../../src/python/imports.ts";
import { BackendRouter, type Routable } from "../../src/routing/router.ts";
import { jobRelativePath, outputPath } from "../../src/vfs/paths.ts";

describe("import scanner", () => {
  it("finds `import a, b as c` and dotted names", () => {
    expect(importedModules("import os, numpy as np\nimport scipy.stats as st")).toEqual(["os", "numpy", "scipy.stats"]);
  });

  it("finds `from x.y import z`, and parenthesised multi-line forms", () => {
    expect(importedModules("from pandas.api import (\n  types,\n  extensions,\n)\nfrom json import loads")).toEqual(["pandas.api", "json"]);
  });

  it("finds imports inside functions, try blocks, after `;` and after a one-line `if x:`", () => {
    const code = [
      "def f():",
      "    import matplotlib.pyplot as plt",
      "try:",
      "    import PIL.Image",
      "except ImportError:",
      "    pass",
      "x = 1; import docx",
      "if True: import openpyxl",
      "a = \\",
      "  2",
      "import reportlab",
    ].join("\n");
    expect(importedModules(code)).toEqual(["matplotlib.pyplot", "PIL.Image", "docx", "openpyxl", "reportlab"]);
  });

  it("does not count imports inside comments or strings (single, triple, prefixed)", () => {
    const code = [
      "# import numpy",
      "s = 'import pandas'",
      'doc = """',
      "import scipy",
      '"""',
      "r = rb'\\nimport PIL'",
      'f = f"{1}\\nimport docx"',
      "print('x') # from matplotlib import pyplot",
    ].join("\n");
    expect(importedModules(code)).toEqual([]);
  });

  it("ignores relative imports and `yield from` / `raise … from`", () => {
    expect(importedModules("from . import helpers\nfrom .pkg import x\ndef g():\n    yield from range(3)\nraise E from None")).toEqual([]);
  });

  it("counts __import__ and importlib.import_module with a literal name", () => {
    expect(importedModules("m = __import__('numpy')\nimport importlib\nimportlib.import_module(\"pandas\")")).toEqual([
      "numpy",
      "importlib",
      "pandas",
    ]);
  });
});

describe("routing", () => {
  it("keeps standard-library and wheel imports on the isolate", () => {
    expect(moduleNeedingContainer("import json, asyncio, yaml\nfrom dateutil import parser\nimport jinja2")).toBeUndefined();
  });

  it("names the first module only the container provides", () => {
    expect(moduleNeedingContainer("import os\nimport numpy as np\nimport pandas")).toBe("numpy");
  });

  it("treats the job's own files as importable modules", () => {
    expect(moduleNeedingContainer("import helpers\nfrom pkg.sub import x", { "helpers.py": "", "pkg/__init__.py": "" })).toBeUndefined();
  });

  it("auto sends a numpy job to the container only when the backend is enabled", () => {
    const job = { language: "python", code: "import numpy" };
    expect(routeJob(job, true)).toBe("container");
    expect(routeJob(job, false)).toBe("isolate");
    expect(routeJob({ ...job, backend: "isolate" }, true)).toBe("isolate");
    expect(routeJob({ language: "javascript", code: "import numpy from 'x'" }, true)).toBe("isolate");
  });

  it("rejects backend: container when it is disabled, or for a JavaScript job", () => {
    expect(routeJob({ language: "python", code: "1", backend: "container" }, false)).toMatchObject({ name: "ContainerDisabled" });
    expect(routeJob({ language: "javascript", code: "1", backend: "container" }, true)).toMatchObject({ name: "InvalidJob" });
    expect(routeJob({ language: "python", code: "1", backend: "container" }, true)).toBe("container");
  });
});

/** The sandbox's router over the two backends' own accepts() (no host process, no daemon). */
function routeJob(job: { language: string; code: string; backend?: "auto" | "isolate" | "container" }, containerEnabled: boolean) {
  const backends: Routable[] = [{ name: "isolate", accepts: isolateAccepts }];
  if (containerEnabled) backends.push({ name: "container", accepts: containerAccepts });
  const picked = new BackendRouter(backends).pick({ files: [], backend: "auto", ...job } as unknown as AdmittedJob);
  return "status" in picked ? { name: picked.error.name, rejected: picked.error.message } : picked.name;
}

describe("path normalisation", () => {
  it("normalises relative names and refuses escapes", () => {
    expect(jobRelativePath("./data//in.csv")).toEqual({ path: "data/in.csv" });
    for (const bad of ["/etc/passwd", "../x", "a/../../b", "", ".", "a\\b"]) expect(jobRelativePath(bad)).toHaveProperty("error");
  });

  it("keeps output names under output/ and replaces control characters", () => {
    expect(outputPath("output/a\nb.txt")).toBe("output/a_b.txt");
    expect(outputPath("main.py")).toBeNull();
    expect(outputPath("output/../main.py")).toBeNull();
  });
});
