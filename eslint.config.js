// Lint for structure, not style (style is prettier's): import cycles, the folder layering that
// shared/tools/folder-graph.py checks, and unused code. `npm run lint`; `npm test` runs it too.
import { registerHooks } from "node:module";

// typescript-eslint 8 parses with TypeScript's JavaScript API, which TypeScript 7 (the project's
// `typescript`, a native compiler) does not ship: it throws "typescript-eslint does not support TS
// 7.0" on load. So `typescript-6` (npm:typescript@6.0) is installed beside it for the linter only,
// and in this process, and nowhere else, a bare `typescript` resolves to it. The `overrides` entry in
// package.json only quiets typescript-eslint's peer range. Drop all three once typescript-eslint runs
// on TypeScript 7 (typescript-eslint/typescript-eslint#10940).
if (typeof registerHooks !== "function") {
  throw new Error(`eslint.config.js needs Node >= 22.15 (module.registerHooks), this is ${process.version}: run it as \`npm run lint\``);
}
registerHooks({
  resolve: (specifier, context, nextResolve) => nextResolve(specifier === "typescript" ? "typescript-6" : specifier, context),
});
// Imported only now, after the hook: a static import would load TypeScript before it is in place.
const { default: tseslint } = await import("typescript-eslint");
const { importX } = await import("eslint-plugin-import-x");
const { createTypeScriptImportResolver } = await import("eslint-import-resolver-typescript");
const { default: isobox } = await import("./eslint/folder-cycles.js");

// The front doors: the only folders of src/ (with src/index.ts) that may import src/api/. The same
// list as DOORS in shared/tools/folder-graph.py, so the lint and the layering check agree.
const DOORS = ["cli", "server", "mcp-server", "doors", "service", "http", "e2b", "twenty", "adapters"];

const unusedVars = [
  "error",
  { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
];

export default [
  {
    // runtimes/isolate/*.js are not modules: they are concatenated into one function scope in the
    // isolate. runtimes/container holds the image's Python and Dockerfile (its build-image.ts is linted).
    ignores: ["dist/**", "bench/results/**", "bench/.peers/**", "runtimes/isolate/**", "examples/**", "wheels/**"],
  },
  {
    files: ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "runtimes/**/*.ts"],
    languageOptions: { parser: tseslint.parser, ecmaVersion: "latest", sourceType: "module" },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: { "@typescript-eslint/no-unused-vars": unusedVars },
  },
  {
    // Plain JavaScript: the bin shim and the lint's own files. typescript-eslint's parser reads them
    // too, because import-x parses the files a file imports with that file's parser (isobox.js
    // imports main.ts).
    files: ["src/cli/isobox.js", "eslint.config.js", "eslint/*.js"],
    languageOptions: { parser: tseslint.parser, ecmaVersion: "latest", sourceType: "module" },
    rules: { "no-unused-vars": unusedVars },
  },
  {
    files: ["src/**/*.ts", "src/**/*.js"],
    plugins: { "import-x": importX, isobox },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      // Cycles between files through value imports (`import type` is erased, so import-x skips it).
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      // Cycles between folders, type imports included, as shared/tools/folder-graph.py counts them.
      "isobox/no-folder-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: "./src/contract",
              from: "./src",
              except: ["./contract"],
              message: "src/contract/ is the innermost layer: it imports only node: builtins and npm packages, nothing else of src/.",
            },
            {
              target: `./src/!(api|${DOORS.join("|")})/**`,
              from: "./src/api",
              message: `src/api/ is the public door: only src/index.ts and the front doors (${DOORS.join(", ")}) import it.`,
            },
          ],
        },
      ],
    },
  },
];
