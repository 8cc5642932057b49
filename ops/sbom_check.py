#!/usr/bin/env python3
"""Checks the CycloneDX SBOM CI writes against Cargo.lock: a CycloneDX 1.5
JSON document describing gatehouse at the workspace's version, whose every
component is a locked crate at its locked version, covering the crates the
server is built from (its normal dependencies, as `cargo tree` lists them).
usage: ops/sbom_check.py SBOM.json Cargo.lock"""

import json
import subprocess
import sys
import tomllib


def main(sbom_path, lock_path):
    sbom = json.load(open(sbom_path))
    assert sbom.get("bomFormat") == "CycloneDX", sbom.get("bomFormat")
    assert sbom.get("specVersion") == "1.5", sbom.get("specVersion")
    top = sbom["metadata"]["component"]
    assert top["name"] == "gatehouse", top["name"]

    lock = tomllib.load(open(lock_path, "rb"))
    locked = {(p["name"], p["version"]) for p in lock["package"]}
    version = next(v for n, v in locked if n == "gatehouse")
    assert top["version"] == version, (top["version"], version)

    components = {(c["name"], c["version"]) for c in sbom.get("components", [])}
    unlocked = sorted(components - locked)
    assert not unlocked, f"components not in Cargo.lock: {unlocked[:10]}"
    for c in sbom["components"]:
        assert c.get("purl", "").startswith(f"pkg:cargo/{c['name']}@{c['version']}"), c.get("purl")

    # What the server links: its normal (non-dev, non-build) dependencies.
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-p", "gatehouse", "-e", "normal", "--prefix", "none", "--format", "{p}"],
        capture_output=True, text=True, check=True,
    ).stdout
    needed = set()
    for line in tree.splitlines():
        parts = line.replace(" (*)", "").split()
        if len(parts) >= 2 and parts[1].startswith("v"):
            needed.add((parts[0], parts[1][1:]))
    needed -= {("gatehouse", version)}
    missing = sorted(needed - components - {(n, v) for n, v in needed if "path+" in n})
    # The workspace's own crates (entity, migration) appear as components too.
    assert not missing, f"{len(missing)} dependencies missing from the SBOM: {missing[:10]}"
    print(f"SBOM: {len(components)} components, all locked; covers the {len(needed)} crates the server is built from")


if __name__ == "__main__":
    main(*sys.argv[1:3])
