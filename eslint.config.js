import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/**", "operator/**", "test-results/**", "web/static/vendor/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error", { selector: "TSEnumDeclaration", message: "Use a union of string literals." }],
    },
  },
  {
    // The engine judges a recorded trace: no I/O, no clock, no cluster client.
    files: ["grader/src/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["node:fs*", "node:child_process", "node:net", "node:http*", "@kubernetes/*", "../kube/*", "../../kube/*", "../clusters/*", "../runner/*", "../jobs/*"], message: "The engine is pure: lab + trace -> verdicts." },
      ] }],
    },
  },
  {
    // The API, pages and gradebook use the grader only through its contracts; the worker is the
    // service's one process that runs the grading library, so it may import the library's modules.
    files: ["server/src/**/*.ts"],
    ignores: ["server/src/worker/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { regex: "grader/src/(?!contracts\\.ts$)", message: "server/ imports only grader/src/contracts.ts from the grader." },
      ] }],
    },
  },
  {
    // Only main.ts files read the environment; everything below gets config passed in.
    files: ["grader/src/**/*.ts", "server/src/**/*.ts"],
    ignores: ["**/main.ts", "**/*.test.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration in main.ts and pass it down." }],
    },
  },
);
