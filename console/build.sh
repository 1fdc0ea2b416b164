#!/bin/sh
# Bundles the console (console/src) into the package's static files with esbuild:
# lit, uPlot and marked come from node_modules, pinned in package.json; the page loads
# nothing from anywhere but the engine. `make console` runs this; the built files are
# checked in so an install needs no Node.
set -e
cd "$(dirname "$0")/.."
out=src/cove/_control/static
esbuild=node_modules/.bin/esbuild
"$esbuild" console/src/main.js --bundle --minify --format=iife --target=es2020 --legal-comments=eof \
  --log-level=warning --outfile="$out/console.js"
"$esbuild" console/src/console.css --bundle --minify --log-level=warning --outfile="$out/console.css"
