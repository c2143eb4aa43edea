import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

// A later block's no-restricted-imports replaces an earlier one's, so each server block repeats this.
const graderContractsOnly = { regex: "grader/src/(?!contracts\\.ts$)", message: "server/ imports only grader/src/contracts.ts from the grader." };

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
    // The server may use the grader only through its contracts.
    files: ["server/src/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [graderContractsOnly] }] },
  },
  {
    // Pages and the API share services/ (and db/, live/, uploads/), never each other's modules.
    files: ["server/src/pages/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [graderContractsOnly, { regex: "(^|/)routes/", message: "A page calls services/, not an API route module." }] }] },
  },
  {
    files: ["server/src/routes/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [graderContractsOnly, { regex: "(^|/)pages/", message: "An API route calls services/, not a page module." }] }] },
  },
  {
    // Services return plain data to both; they know neither HTML nor the API's JSON.
    files: ["server/src/services/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [graderContractsOnly, { regex: "(^|/)(routes|pages)/", message: "A service serves pages and routes; it imports neither." }] }] },
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
