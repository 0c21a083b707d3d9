#!/bin/sh
# `npm start -w server [-- api|ws|all]`, and the Docker image's command: the compiled server
# (dist/bin/main.js, from `npm run build`) as plain JavaScript; without a build, or with sources newer
# than it, the TypeScript sources through tsx (development only: the image has no tsx).
set -e
cd "$(dirname "$0")/.."
# One file descriptor per socket: the soft open-files limit goes up to the hard one. Node cannot call
# setrlimit, so the shell that starts it does.
hard=$(ulimit -Hn)
ulimit -n "$hard" 2>/dev/null || echo "start: could not raise the open-files limit to $hard; it stays $(ulimit -n)" >&2
if [ -f dist/bin/main.js ]; then
  newer=$(find src ../contract/src -name '*.ts' -newer dist/bin/main.js 2>/dev/null | head -n 1)
  if [ -z "$newer" ]; then exec node --enable-source-maps dist/bin/main.js "$@"; fi
  echo "start: $newer is newer than dist/bin/main.js: running the sources through tsx (npm run build compiles them)" >&2
fi
exec node --import tsx src/main.ts "$@"
