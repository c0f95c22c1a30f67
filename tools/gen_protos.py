"""Generate the Python code for the protobuf contracts into ``gen/``.

This is the one command that produces generated code:

    python tools/gen_protos.py            # regenerate gen/
    python tools/gen_protos.py --check    # exit 1 if gen/ is stale
    python tools/gen_protos.py --gen-dir DIR [--check]   # another output tree

Code is generated with ``-I protos`` so the import path equals the proto
package (``forgesyte.jobs.v1``). mypy-protobuf writes the ``.pyi`` stubs for
both the messages and the gRPC stubs, so servicers and clients type-check.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
GEN_ROOT = ROOT / "gen"
GENERATED_PACKAGE = Path("forgesyte")


def _plugin(name: str) -> str:
    """Path of a protoc plugin installed next to the running interpreter."""
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        raise SystemExit(f"{name} not found next to {sys.executable}; install the dev extras")
    return str(candidate)


def generate(out_dir: Path) -> None:
    """Write generated modules, stubs and package markers below ``out_dir``."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out=quiet:{out_dir}",
        f"--mypy_grpc_out=quiet:{out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for proto_dir in {out_dir / Path(p).parent for p in protos}:
        for package_dir in (proto_dir, *proto_dir.parents):
            if package_dir == out_dir:
                break
            (package_dir / "__init__.py").touch()
    (out_dir / GENERATED_PACKAGE / "py.typed").touch()


def _differences(expected: Path, actual: Path) -> list[str]:
    """Relative paths that differ between two generated trees."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: Path) -> None:
        for name in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files:
            found.append(str(prefix / name))
        for name, sub in cmp.subdirs.items():
            walk(sub, prefix / name)

    walk(filecmp.dircmp(expected, actual, ignore=["__pycache__"]), Path())
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if gen/ is stale")
    parser.add_argument("--gen-dir", type=Path, default=GEN_ROOT, help="where generated code lives")
    options = parser.parse_args()
    gen_root: Path = options.gen_dir
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        generate(fresh)
        if options.check:
            stale = _differences(fresh / GENERATED_PACKAGE, gen_root / GENERATED_PACKAGE)
            if stale:
                print("generated code is stale; run: python tools/gen_protos.py", file=sys.stderr)
                print("\n".join(f"  {path}" for path in stale), file=sys.stderr)
                return 1
            return 0
        shutil.rmtree(gen_root / GENERATED_PACKAGE, ignore_errors=True)
        shutil.copytree(fresh / GENERATED_PACKAGE, gen_root / GENERATED_PACKAGE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
