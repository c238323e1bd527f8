#!/usr/bin/env bash
# Packs NeuralOde (the runtime for net8.0 and net10.0, with the source generator inside at analyzers/dotnet/cs, and
# its symbols package) into a local feed, checks what the package holds, then builds and runs against it:
#   1. tests/PackConsumer, a user's console app that declares its own [ButcherTableau] scheme, on every target
#      framework the package ships (net8.0 runs on an installed .NET 8 runtime, else self-contained from NuGet's
#      runtime pack: no .NET 8 install is needed);
#   2. the README's quick start (the C# block between its quick-start markers), exactly as printed there;
#   3. an app that references neither TorchSharp-cpu nor TorchSharp-cuda-*, to check what it is told.
#
# Everything happens in a fresh temporary folder with a unique package version (so no NuGet cache can serve a
# stale copy); the only lasting trace, that version's folder in the global packages cache, is removed on exit.
# Usage: bash scripts/pack-consumer-check.sh    (a few minutes on 2 cores when the NuGet cache is warm)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration=Release
frameworks=(net8.0 net10.0)
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

# Prints one entry of a zip.
read_zip() {
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$1" "$2"
  else
    python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2"
  fi
}

has_entries() {
  local zip="$1" entries entry
  shift
  entries="$(list_zip "$zip")"
  for entry in "$@"; do
    grep -qxF "$entry" <<<"$entries" || fail "$zip lacks $entry; it holds:
$entries"
  done
}

# Copies the consumer project into a new folder beside the feed: $1 the folder, $2 the Program.cs to use.
make_consumer() {
  mkdir "$1"
  cp "$repo/tests/PackConsumer/"{PackConsumer.csproj,NuGet.config,Directory.Build.props,Directory.Build.targets,Directory.Packages.props} "$1/"
  cp "$2" "$1/Program.cs"
}

# Runs a consumer built for one framework: prints its output, returns its exit code.
run_consumer() {
  local folder="$1" framework="$2"
  shift 2
  if [[ "$framework" == net10.0 ]] || dotnet --list-runtimes | grep -q "^Microsoft.NETCore.App ${framework#net}"; then
    dotnet "$folder/bin/$configuration/$framework/PackConsumer.dll" "$@"
  else
    # No shared runtime for this framework here: publish self-contained (runtime pack from NuGet) and run that.
    dotnet publish "$folder/PackConsumer.csproj" -c "$configuration" -f "$framework" -r linux-x64 --self-contained \
      -nologo -v quiet -p:NeuralOdeVersion="$version" -o "$folder/publish-$framework" >&2 \
      || fail "the consumer does not publish self-contained for $framework"
    "$folder/publish-$framework/PackConsumer" "$@"
  fi
}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

step "building the generator"
dotnet build "$repo/src/Generators/Generators.csproj" -c "$configuration" -nologo -v quiet

step "packing NeuralOde $version"
dotnet pack "$repo/src/Runtime/Runtime.csproj" -c "$configuration" -o "$work/feed" -nologo -v quiet -p:MinVerVersionOverride="$version"

nupkg="$work/feed/NeuralOde.$version.nupkg"
snupkg="$work/feed/NeuralOde.$version.snupkg"
[[ -f "$nupkg" ]] || fail "no $nupkg (found: $(ls "$work/feed"))"
[[ -f "$snupkg" ]] || fail "no symbols package $snupkg (found: $(ls "$work/feed"))"
lib=()
symbols=()
for framework in "${frameworks[@]}"; do
  lib+=("lib/$framework/NeuralOde.dll" "lib/$framework/NeuralOde.xml")
  symbols+=("lib/$framework/NeuralOde.pdb")
done
has_entries "$nupkg" analyzers/dotnet/cs/NeuralOde.Generators.dll README.md LICENSE CHANGELOG.md "${lib[@]}"
has_entries "$snupkg" "${symbols[@]}"
nuspec="$(read_zip "$nupkg" NeuralOde.nuspec)"
for expected in "<version>$version</version>" '<license type="expression">MIT</license>' '<readme>README.md</readme>' \
  '<projectUrl>https://github.com/neuralode/NeuralOde</projectUrl>' '<repository type="git" url="https://github.com/neuralode/NeuralOde"' \
  '<releaseNotes>' '<group targetFramework="net8.0">' '<group targetFramework="net10.0">' '<dependency id="TorchSharp" version="0.107.0"'; do
  grep -qF "$expected" <<<"$nuspec" || fail "the nuspec lacks '$expected':
$nuspec"
done
step "the package holds lib/{$(IFS=,; echo "${frameworks[*]}")}, the generator, README, LICENSE, CHANGELOG; the .snupkg the pdbs"

step "building the consumer for ${frameworks[*]}"
make_consumer "$work/consumer" "$repo/tests/PackConsumer/Program.cs"
dotnet build "$work/consumer/PackConsumer.csproj" -c "$configuration" -nologo -v quiet -p:NeuralOdeVersion="$version" \
  || fail "the consumer does not build against NeuralOde $version"
for framework in "${frameworks[@]}"; do
  step "running the consumer on $framework"
  set +e
  output="$(run_consumer "$work/consumer" "$framework" 2>&1)"
  code=$?
  set -e
  echo "$output" | sed 's/^/  | /'
  [[ $code -eq 0 ]] || fail "the consumer exited with $code on $framework"
  for expected in "registry: SSPRK3" "schemes: SSPRK3" "order check: ok" "runtime: .NET ${framework#net}"; do
    grep -qF "$expected" <<<"$output" || fail "the consumer's output on $framework lacks '$expected'"
  done
done

step "building and running the README's quick start"
awk '/<!-- quick-start:begin -->/ { inside = 1; next } /<!-- quick-start:end -->/ { inside = 0 } inside' "$repo/README.md" \
  | sed '/^```/d' > "$work/QuickStart.cs"
[[ -s "$work/QuickStart.cs" ]] || fail "README.md has no code between <!-- quick-start:begin --> and <!-- quick-start:end -->"
make_consumer "$work/quickstart" "$work/QuickStart.cs"
dotnet build "$work/quickstart/PackConsumer.csproj" -c "$configuration" -nologo -v quiet -p:NeuralOdeVersion="$version" -p:TargetFrameworks=net10.0 \
  || fail "the README's quick start does not build against NeuralOde $version"
set +e
output="$(cd "$work/quickstart" && dotnet "bin/$configuration/net10.0/PackConsumer.dll" 2>&1)"
code=$?
set -e
echo "$output" | sed 's/^/  | /'
[[ $code -eq 0 ]] || fail "the README's quick start exited with $code"
[[ $(grep -c '^row [0-3]: .*, Success, ' <<<"$output") -eq 4 ]] || fail "the quick start's four rows did not all succeed"
awk '/^row / { gsub(",", ""); y = $5; exact = $7; if ((y - exact) ^ 2 > 1e-14) bad = 1 } END { exit bad }' <<<"$output" \
  || fail "a quick-start row is off its exact value by more than 1e-7"
awk '/^training: loss/ { found = 1; if (!($5 < $3 / 10)) bad = 1 } END { exit !found || bad }' <<<"$output" \
  || fail "the quick start's training did not lower the loss tenfold"
[[ -f "$work/quickstart/rotation.bin" ]] || fail "the quick start wrote no rotation.bin"

step "running an app that references no native backend"
make_consumer "$work/nonative" "$repo/tests/PackConsumer/NoNative/Program.cs"
dotnet build "$work/nonative/PackConsumer.csproj" -c "$configuration" -nologo -v quiet -p:NeuralOdeVersion="$version" -p:TargetFrameworks=net10.0 -p:WithNativeTorch=false \
  || fail "the app without a native backend does not build"
[[ ! -e "$work/nonative/bin/$configuration/net10.0/runtimes/linux-x64/native/libtorch.so" ]] || fail "libtorch was copied without TorchSharp-cpu"
# TorchSharp's last resort is libtorch in the NuGet global packages folder, which this machine has (the repository
# restored TorchSharp-cpu): point it at an empty folder, as on a machine where nothing else restored libtorch.
mkdir "$work/no-packages"
set +e
output="$(NUGET_PACKAGES="$work/no-packages" dotnet "$work/nonative/bin/$configuration/net10.0/PackConsumer.dll" 2>&1)"
code=$?
set -e
grep -E '^(EnsureLoaded|ones):' <<<"$output" | sed 's/^/  | /'
[[ $code -eq 0 ]] || fail "the app without a native backend did not fail as documented (exit $code)"
grep -qF "EnsureLoaded: TorchNativeException: TorchSharp's native library (libtorch) could not be loaded: the application must reference TorchSharp-cpu, TorchSharp-cuda-linux or TorchSharp-cuda-windows" <<<"$output" \
  || fail "TorchNative.EnsureLoaded did not name the missing package"
grep -qF "ones: System.TypeInitializationException: The type initializer for 'TorchSharp.torch' threw an exception." <<<"$output" \
  || fail "the first tensor operation did not fail with TorchSharp's TypeInitializationException"
grep -qF "libtorch-cpu-linux-x64" <<<"$output" || fail "TorchSharp's loader did not name libtorch-cpu-linux-x64"

step "ok"
