#!/usr/bin/env bash
# Packs NeuralOde (the runtime, with the source generator inside at analyzers/dotnet/cs) into a local feed, then
# builds and runs tests/PackConsumer against it: a user's console app that declares its own [ButcherTableau]
# scheme. Proves that the package carries the generator and that the generated step, the registry and
# NeuralOde.Schemes work from a package reference.
#
# Everything happens in a fresh temporary folder with a unique package version (so no NuGet cache can serve a
# stale copy); the only lasting trace, that version's folder in the global packages cache, is removed on exit.
# Usage: bash scripts/pack-consumer-check.sh    (about a minute when the NuGet cache is warm)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration=Release
version="0.1.0-local.$(date +%s).$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/neuralode-pack.XXXXXX")"
packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"

cleanup() {
  rm -rf "$work"
  if [[ -n "$packages" && -d "$packages/neuralode/$version" ]]; then
    rm -rf "${packages:?}/neuralode/$version"
    rmdir "$packages/neuralode" 2>/dev/null || true
  fi
}
trap cleanup EXIT

fail() {
  echo "pack-consumer-check: FAILED: $*" >&2
  exit 1
}

step() {
  echo "pack-consumer-check: $*"
}

# Lists a zip's entries, one a line, with whichever tool the machine has.
list_zip() {
  if command -v unzip >/dev/null 2>&1; then
    unzip -Z1 "$1"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"
  else
    fail "neither unzip nor python3 is installed to list $1"
  fi
}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

step "building the generator"
dotnet build "$repo/src/Generators/Generators.csproj" -c "$configuration" -nologo -v quiet

step "packing NeuralOde $version"
dotnet pack "$repo/src/Runtime/Runtime.csproj" -c "$configuration" -o "$work/feed" -nologo -v quiet -p:Version="$version"

nupkg="$work/feed/NeuralOde.$version.nupkg"
[[ -f "$nupkg" ]] || fail "no $nupkg (found: $(ls "$work/feed"))"
entries="$(list_zip "$nupkg")"
for entry in analyzers/dotnet/cs/NeuralOde.Generators.dll lib/net10.0/NeuralOde.dll; do
  grep -qxF "$entry" <<<"$entries" || fail "$nupkg lacks $entry; it holds:
$entries"
done

step "building the consumer against it"
mkdir "$work/consumer"
cp "$repo/tests/PackConsumer/"{PackConsumer.csproj,Program.cs,NuGet.config,Directory.Build.props,Directory.Build.targets,Directory.Packages.props} "$work/consumer/"
dotnet build "$work/consumer/PackConsumer.csproj" -c "$configuration" -nologo -v quiet -p:NeuralOdeVersion="$version" \
  || fail "the consumer does not build against NeuralOde $version"

step "running the consumer"
set +e
output="$(dotnet "$work/consumer/bin/$configuration/net10.0/PackConsumer.dll" 2>&1)"
code=$?
set -e
echo "$output" | sed 's/^/  | /'
[[ $code -eq 0 ]] || fail "the consumer exited with $code"
for expected in "registry: SSPRK3" "schemes: SSPRK3" "order check: ok"; do
  grep -qF "$expected" <<<"$output" || fail "the consumer's output lacks '$expected'"
done

step "ok"
