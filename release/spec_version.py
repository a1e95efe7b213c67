"""Prints the spec's info.version: the one version every artifact of `make dist` carries."""

from __future__ import annotations

import sys
from pathlib import Path

from gradergen.errors import GradergenError
from gradergen.ir.build import VERSION, VERSION_RULE
from gradergen.spec import load_spec


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "spec" / "graders.openapi.yaml"
    spec = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    try:
        info = load_spec(spec).get("info")
    except GradergenError as exc:
        print(f"spec_version: {exc}", file=sys.stderr)
        return 2
    version = info.get("version") if isinstance(info, dict) else None
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        print(f"spec_version: {spec}: /info/version {version!r} is not {VERSION_RULE}", file=sys.stderr)
        return 2
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
