// @ts-check
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "eslint.config.js"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "no-console": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "max-lines": ["error", { max: 500, skipBlankLines: true, skipComments: true }],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "node:os",
              importNames: ["homedir", "tmpdir"],
              message: "Use src/platform/paths.ts.",
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      "src/platform/paths.ts",
      "src/platform/tempdir.ts",
      "test/**",
      "src/**/*.test.ts",
      "bench/**",
    ],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["test/**", "src/**/*.test.ts", "bench/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "max-lines": "off",
    },
  },
  {
    // The core never prints or exits: only src/cli and the bench/test harnesses do.
    files: [
      "src/pool/**",
      "src/auth/**",
      "src/quota/**",
      "src/codex/**",
      "src/supervisor/**",
      "src/platform/**",
      "src/app-server/**",
    ],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "exit", message: "Only src/cli exits." },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/cli/**", "../cli/*"], message: "The core must not import the CLI." },
          ],
          paths: [
            {
              name: "node:os",
              importNames: ["homedir", "tmpdir"],
              message: "Use src/platform/paths.ts.",
            },
          ],
        },
      ],
    },
  },
  // Plain-JS fixtures (child-process scripts importing dist/) are outside the TS project.
  { files: ["**/*.mjs"], ...tseslint.configs.disableTypeChecked },
);
