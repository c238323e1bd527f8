#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test NeuralOde. Idempotent: every step checks first.
#
# TorchSharp 0.107's native library (libLibTorchSharp.so) needs libstdc++ from GCC 13 or newer
# (symbol version GLIBCXX_3.4.32). Debian 12 ships GCC 12's libstdc++, so on Debian 12 this script adds
# Debian 13 (trixie) as a low-priority apt source (Pin-Priority 100: no package is upgraded from it later) and
# installs libstdc++6 from there with -t trixie, which also brings what it depends on (libc6, the GCC 14 runtime
# libraries, base-files). Ubuntu 24.04, Debian 13 and Fedora 39+ already have it.
set -euo pipefail

need_symbol=GLIBCXX_3.4.32

has_symbol() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 \
             /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    if [[ -r "$lib" ]] && grep -aq "$need_symbol" "$lib"; then
      return 0
    fi
  done
  return 1
}

if has_symbol; then
  echo "install-prereqs: libstdc++ already provides $need_symbol"
else
  if [[ ! -r /etc/os-release ]] || ! grep -q '^ID=debian' /etc/os-release; then
    echo "install-prereqs: libstdc++ lacks $need_symbol; install libstdc++ from GCC 13 or newer with your distribution's tools" >&2
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-prereqs: libstdc++ lacks $need_symbol; run this script as root to install it from Debian trixie" >&2
    exit 1
  fi
  list=/etc/apt/sources.list.d/neuralode-trixie.list
  pin=/etc/apt/preferences.d/neuralode-trixie
  if [[ ! -f "$list" ]]; then
    echo 'deb http://deb.debian.org/debian trixie main' > "$list"
  fi
  if [[ ! -f "$pin" ]]; then
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > "$pin"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -t trixie libstdc++6
  has_symbol || { echo "install-prereqs: libstdc++6 from trixie still lacks $need_symbol" >&2; exit 1; }
  echo "install-prereqs: installed libstdc++6 from Debian trixie"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-prereqs: the .NET SDK 10 is required (https://dot.net)" >&2
  exit 1
fi
