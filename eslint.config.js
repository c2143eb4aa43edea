import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const noEnums = { selector: "TSEnumDeclaration", message: "Use a union of string literals." };

// Layers: the grading library (grader/src) never imports the service (server/src); the service and
// its worker use the library. An import path that names server/src, or climbs out of grader/ into
// server/, breaks it. The restriction goes in every grader/src block that sets these two rules,
// because a later block's options replace an earlier one's.
const LAYERS =
  "layers: grader/src (the grading library) must not import server/src (the service); the service uses the library, never the reverse (README, Architecture)";
const serviceImport = { regex: "(^|/)server/src/|^(\\.\\./){2,}server/", message: LAYERS };
// no-restricted-imports does not look at import(): a dynamic import is matched by its syntax ("/" as \u002f for esquery).
const serviceDynamicImport = {
  selector: "ImportExpression[source.value=/(^|\\u002f)server\\u002fsrc\\u002f|^(\\.\\.\\u002f){2,}server\\u002f/]",
  message: LAYERS,
};
// A later block's no-restricted-imports replaces an earlier one's, so each server block repeats this.
const graderContractsOnly = {
  regex: "grader/src/(?!contracts\\.ts$)",
  message: "server/ imports only grader/src/contracts.ts from the grader.",
};

export default tseslint.config(
  { ignores: ["node_modules/**", "operator/**", "test-results/**", "web/static/vendor/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error", noEnums],
    },
  },
  {
    files: ["grader/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [serviceImport] }],
      "no-restricted-syntax": ["error", noEnums, serviceDynamicImport],
    },
  },
  {
    // The engine judges a recorded trace: no I/O, no clock, no cluster client.
    files: ["grader/src/engine/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            serviceImport,
            {
              group: [
                "node:fs*",
                "node:child_process",
                "node:net",
                "node:http*",
                "@kubernetes/*",
                "../kube/*",
                "../../kube/*",
                "../clusters/*",
                "../runner/*",
              ],
              message: "The engine is pure: lab + trace -> verdicts.",
            },
          ],
        },
      ],
    },
  },
  {
    // The API, pages and gradebook use the grader only through its contracts; the worker is the
    // service's one process that runs the grading library, so it may import the library's modules.
    files: ["server/src/**/*.ts"],
    ignores: ["server/src/worker/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [graderContractsOnly] }] },
  },
  {
    // Pages and the API share services/ (and db/, live/, uploads/), never each other's modules.
    files: ["server/src/pages/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            graderContractsOnly,
            { regex: "(^|/)routes/", message: "A page calls services/, not an API route module." },
          ],
        },
      ],
    },
  },
  {
    files: ["server/src/routes/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            graderContractsOnly,
            { regex: "(^|/)pages/", message: "An API route calls services/, not a page module." },
          ],
        },
      ],
    },
  },
  {
    // Services return plain data to both; they know neither HTML nor the API's JSON.
    files: ["server/src/services/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            graderContractsOnly,
            { regex: "(^|/)(routes|pages)/", message: "A service serves pages and routes; it imports neither." },
          ],
        },
      ],
    },
  },
  {
    // Only main.ts files read the environment; everything below gets config passed in.
    files: ["grader/src/**/*.ts", "server/src/**/*.ts"],
    ignores: ["**/main.ts", "**/*.test.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration in main.ts and pass it down." },
      ],
    },
  },
);
