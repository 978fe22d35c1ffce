// ESLint (flat config) with typescript-eslint: the rules this code already follows, so a
// review never has to say them. Formatting is Prettier's (`.prettierrc.json`), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      // Work and output folders (.test-work, .demo, a contributor's private tsc outDir):
      // `eslint .` must not read compiled copies of the code.
      '.*/',
      'test-results/',
      'media/',
      // Generated from the PS3.6 tables by scripts/gen-dictionary.mjs.
      'src/dicom/dictionaryData.ts',
      'src/dicom/deidentify/profileData.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
        fetch: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        // `typeof import('./undici')` types a require() that loads a module late on purpose.
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
      // Prettier breaks code at 100 columns but leaves comments and strings alone: comments
      // are held to the same width; a sentence for people in a string or template stays whole
      // (grep finds it), as do URLs, and JSDoc types and lint directives that must be one line.
      'max-len': [
        'error',
        {
          code: 100,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
          ignorePattern: 'eslint-disable|@(param|returns|type|typedef) \\{',
        },
      ],
    },
  },
  {
    // Tests, benchmarks and scripts: an error rethrown with a clearer sentence for a person
    // reading a test log needs no cause chain, and a default given before a try reads better.
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: { 'preserve-caught-error': 'off', 'no-useless-assignment': 'off' },
  },
  {
    // CommonJS on purpose (loaded by a plain `node --require`).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A function a reader can hold in mind (house style): split where the parts have names.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
);
