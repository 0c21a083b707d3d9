// `npm run build -w server`: the server compiled once, for production: src/main.ts and the migrate CLI
// bundled by esbuild into plain ESM JavaScript under dist/bin/, with the workspace's own TypeScript
// (@chat/contract) inlined and every npm package left to node_modules. No TypeScript at run time.
// dist/bin/ sits as deep under server/ as src/config/ does, so the repository root is found the same way.
import { build } from 'esbuild'

/** where to write: dist/bin, or the directory given as the first argument (the build test's) */
const outdir = process.argv[2] ?? 'dist/bin'

await build({
  entryPoints: { main: 'src/main.ts', 'migrate-cli': 'src/db/migrate-cli.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'packages-stay-external',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@chat/') ? undefined : { path: args.path, external: true },
        )
      },
    },
  ],
})
