#!/usr/bin/env python3
"""Makes testdata/mnist: a small MNIST-format fixture for the demo's tests, cut from the real MNIST files.

It keeps the first TRAIN training and TEST test images with their labels (the IDX headers rewritten with the new
counts), gzips each file reproducibly (no name, mtime 0, level 9) and writes SHA256SUMS (the .gz files' sha256, for
`sha256sum -c`) and manifest.json (each file's item count, .gz sha256 and decompressed content's sha256: another
zlib may compress differently, the content is what counts). The source files are checked against the SHA256SUMS
beside them first.

Usage: python3 scripts/make-mnist-fixture.py [SOURCE_DIR [TARGET_DIR]]
  SOURCE_DIR defaults to ../shared/data/mnist (the repository's sibling), TARGET_DIR to testdata/mnist.
"""
import gzip
import hashlib
import io
import json
import os
import struct
import sys

TRAIN = 512
TEST = 256
FILES = [
    ("train-images-idx3-ubyte", TRAIN),
    ("train-labels-idx1-ubyte", TRAIN),
    ("t10k-images-idx3-ubyte", TEST),
    ("t10k-labels-idx1-ubyte", TEST),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_source(folder: str) -> None:
    sums_path = os.path.join(folder, "SHA256SUMS")
    with open(sums_path, encoding="ascii") as sums:
        expected = dict(reversed(line.split()) for line in sums if line.strip())
    for name, _ in FILES:
        gz = name + ".gz"
        with open(os.path.join(folder, gz), "rb") as f:
            actual = sha256(f.read())
        if expected.get(gz) != actual:
            sys.exit(f"make-mnist-fixture: {gz} in {folder} has sha256 {actual}, SHA256SUMS says {expected.get(gz)}")


def cut(data: bytes, count: int, name: str) -> bytes:
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        sys.exit(f"make-mnist-fixture: {name} is not an unsigned-byte IDX file (magic {magic:#010x})")
    shape = list(struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims]))
    if shape[0] < count:
        sys.exit(f"make-mnist-fixture: {name} has {shape[0]} items, fewer than {count}")
    item = 1
    for size in shape[1:]:
        item *= size
    header = 4 + 4 * dims
    shape[0] = count
    return struct.pack(">I", magic) + struct.pack(">" + "I" * dims, *shape) + data[header:header + count * item]


def write(path: str, text: str) -> None:
    temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temp, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    os.replace(temp, path)


def main() -> None:
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "data", "mnist")
    target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(repo, "testdata", "mnist")
    check_source(source)
    os.makedirs(target, exist_ok=True)
    lines = []
    entries = []
    for name, count in FILES:
        with gzip.open(os.path.join(source, name + ".gz"), "rb") as f:
            content = cut(f.read(), count, name)
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as z:
            z.write(content)
        packed = buffer.getvalue()
        temp = os.path.join(target, f".{name}.gz.tmp")
        with open(temp, "wb") as f:
            f.write(packed)
        os.replace(temp, os.path.join(target, name + ".gz"))
        lines.append(f"{sha256(packed)}  {name}.gz")
        entries.append({"file": name + ".gz", "items": count, "sha256": sha256(packed), "content_sha256": sha256(content)})
    manifest = {
        "format_version": 1,
        "description": f"The first {TRAIN} training and {TEST} test images of MNIST (Yann LeCun, Corinna Cortes and "
                       "Christopher J. C. Burges; CC BY-SA 3.0), made by scripts/make-mnist-fixture.py",
        "files": entries,
    }
    write(os.path.join(target, "SHA256SUMS"), "\n".join(lines) + "\n")
    write(os.path.join(target, "manifest.json"), json.dumps(manifest, indent=2) + "\n")
    print(f"make-mnist-fixture: {TRAIN} training and {TEST} test images in {target}")


if __name__ == "__main__":
    main()
