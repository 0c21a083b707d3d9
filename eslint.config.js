// The agreed rule set: ESLint's and typescript-eslint's recommended rules, Vue's recommended rules for the
// SPA, Prettier owning layout, plus a few type-aware rules for what bites a server (a promise nobody
// awaits, an error swallowed by an empty catch). `npm run lint` runs it with zero warnings allowed.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', '.data/', 'test-artifacts/', 'web/public/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // a promise that is neither awaited nor handled loses its error (mark a deliberate one with `void`)
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name='catch'] > ArrowFunctionExpression.arguments[body.type='BlockStatement'][body.body.length=0]",
          message: 'Do not swallow errors: log them with context, or say in a comment why they are ignored.',
        },
      ],
    },
  },
  {
    files: ['web/**/*.{ts,vue}'],
    // web/tsconfig.json only references its two projects, which the project service does not follow
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['web/tsconfig.app.json', 'web/tsconfig.node.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['web/src/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // plain JavaScript (scripts, this file) and the scripts' declarations are in no tsconfig: no type-aware rules
    files: ['**/*.{js,mjs,cjs}', '**/*.d.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
)
