#!/usr/bin/env bash
# Builds the API reference site with docfx (a local tool, .config/dotnet-tools.json) from the XML docs of
# src/Runtime (generated into docs/api/, not committed) and the pages in docs/, into artifacts/docs/ (open artifacts/docs/index.html). Any docfx warning
# (a broken link, a bad cref, an unresolved reference) fails the build.
# Usage: bash scripts/docs.sh    (about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
rm -rf docs/api artifacts/docs
dotnet docfx docs/docfx.json --warningsAsErrors
[[ -f artifacts/docs/index.html && -f artifacts/docs/api/NeuralOde.html ]] || { echo "docs: the site lacks index.html or api/NeuralOde.html" >&2; exit 1; }
echo "docs: artifacts/docs/index.html"
