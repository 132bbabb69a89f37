#!/usr/bin/env python3
"""Lays out an empty stand-in for every target of a Swift package, so that SwiftPM can build
the package's *dependencies* before the real sources are copied in (Ops/Dockerfile's cached
dependency layer: it changes only when Package.swift or Package.resolved does).

Reads `swift package dump-package` on stdin. For each target it creates the target's folder
with one empty Swift file (main.swift for an executable, so it links) and an empty folder
for each declared resource. System-library targets (CZeroMQ: a module map, no Swift) are
left alone: the Dockerfile copies them for real. Existing files are never overwritten.

    swift package dump-package | python3 stub-targets.py
"""
import json
import os
import sys

DEFAULT_ROOT = {"test": "Tests", "plugin": "Plugins"}  # everything else lives in Sources/


def main():
    manifest = json.load(sys.stdin)
    made = 0
    for target in manifest["targets"]:
        kind = target["type"]
        path = target.get("path") or os.path.join(DEFAULT_ROOT.get(kind, "Sources"), target["name"])
        if kind in ("system", "binary"):
            if not os.path.isdir(path):
                sys.exit(f"stub-targets: {kind} target {target['name']} needs its real folder {path}")
            continue
        os.makedirs(path, exist_ok=True)
        name = "main.swift" if kind == "executable" else f"{target['name']}Stub.swift"
        stub = os.path.join(path, name)
        if not os.path.exists(stub):
            with open(stub, "w") as f:
                f.write("// Stand-in for the dependency layer of Ops/Dockerfile.\n")
            made += 1
        for resource in target.get("resources") or []:
            os.makedirs(os.path.join(path, resource["path"]), exist_ok=True)
    print(f"stub-targets: {made} stand-in files for {len(manifest['targets'])} targets")


if __name__ == "__main__":
    main()
