"""Lists breaking and non-breaking changes of the spec since BASE (`make spec-diff BASE=<ref>`).

Usage: ``python tools/spec_diff.py --base REF_OR_FILE [--spec SPEC] [--format text|json]``.
BASE is a file when such a file exists, else a git ref whose copy of SPEC is compared.
The changes are classified by api-smart-diff (tools/spec/diff.mjs); one rule of ours is added on
top (see ``_strict_request_removals``). Exit status: 0 when there is no breaking change or
``info.version`` has a new major number, 1 for a breaking change without one, 2 for a usage or
tool error.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "spec" / "openapi.yaml"
TOOLS = ROOT / "tools" / "spec"
DIFF_SCRIPT = TOOLS / "diff.mjs"
DIFF_LIBRARY = TOOLS / "node_modules" / "api-smart-diff" / "package.json"
INSTALL_HINT = "run `make install-spec-tools` (npm ci in tools/spec)"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Component changes show up again under every operation that uses the component; only security
# schemes are reached by name rather than by $ref, so theirs are kept.
KEPT_COMPONENT_KINDS = {"securitySchemes"}
VERSION = re.compile(r"^v?(\d+)(?:\.\d+){0,2}(?:[-+].*)?$")

type Document = Mapping[str, Any]


class UsageError(Exception):
    """The comparison cannot be made; the message says why."""


@dataclass(frozen=True)
class Change:
    """One classified change: ``where`` is "POST /currencies" (or a top-level section such as
    ``components/securitySchemes/cognito``), ``at`` the JSON pointer below it."""

    kind: str  # breaking, non-breaking, deprecated, annotation, unclassified
    where: str
    at: str
    description: str


@dataclass(frozen=True)
class Report:
    """The outcome of a comparison: ``ok`` is False when the build must fail."""

    base: str
    base_version: str
    head_version: str
    breaking: list[Change]
    non_breaking: list[Change]
    other: list[Change]
    documentation: int
    ok: bool
    message: str


def _load_text(text: str, source: str) -> Document:
    # The C loader when PyYAML has it: several times faster on a spec this size.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise UsageError(f"{source} is not YAML: {error}") from None
    if not isinstance(document, Mapping):
        raise UsageError(f"{source} is not an OpenAPI document")
    return document


def _load(path: Path) -> Document:
    try:
        return _load_text(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def load_base(base: str, spec: Path) -> Document:
    """The document at ``base``: a file path if one exists, else ``spec`` as of git ref ``base``.

    Raises:
        UsageError: ``base`` is neither a file nor a git ref holding the spec.
    """
    candidate = Path(base)
    if candidate.is_file():
        return _load(candidate)
    if shutil.which("git") is None:
        raise UsageError(f"BASE {base!r} is not a file, and git is not installed")
    spec = spec.resolve()

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed executable, arguments are not a shell
            ["git", "-C", str(spec.parent), *args],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=False,
        )

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"BASE {base!r} is not a file, and {spec} is not in a git repository")
    relative = spec.relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    if git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        remote = git("rev-parse", "--verify", "--quiet", f"origin/{base}^{{commit}}")
        hint = f"; did you mean origin/{base}?" if remote.returncode == 0 else ""
        raise UsageError(
            f"BASE {base!r} is neither a file nor a git ref (commit, branch or tag){hint}"
        )
    shown = git("show", f"{base}:{relative}")
    if shown.returncode != 0:
        raise UsageError(f"{relative} does not exist at {base}: {shown.stderr.strip()}")
    return _load_text(shown.stdout, f"{base}:{relative}")


def classify(before: Document, after: Document) -> list[Mapping[str, Any]]:
    """Runs api-smart-diff on the two documents; returns its raw changes.

    Raises:
        UsageError: node or api-smart-diff is missing, or the comparison crashed.
    """
    if not DIFF_LIBRARY.exists():
        raise UsageError(f"api-smart-diff is not installed in {TOOLS}: {INSTALL_HINT}")
    node = shutil.which("node")
    if node is None:
        raise UsageError("node is not on PATH: install Node.js 20.19 or later")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, document in (("before.json", before), ("after.json", after)):
            path = Path(folder) / name
            # default=str: YAML turns unquoted dates into date objects.
            path.write_text(json.dumps(document, default=str), encoding="utf-8")
            paths.append(str(path))
        result = subprocess.run(  # noqa: S603 - fixed executable and script
            [node, str(DIFF_SCRIPT), *paths], capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        raise UsageError(f"api-smart-diff failed (exit {result.returncode}):\n{result.stderr}")
    changes: list[Mapping[str, Any]] = json.loads(result.stdout)
    return changes


def _resolve(document: Document, node: Any) -> Any:
    # Follows local $refs only: the spec is one file.
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return None
        seen.add(ref)
        node = document
        for token in ref[2:].split("/"):
            key = token.replace("~1", "/").replace("~0", "~")
            node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _node_at(document: Document, path: Sequence[str]) -> Any:
    node: Any = document
    for key in path:
        node = _resolve(document, node)
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return _resolve(document, node)


def _strict_request_removals(change: Mapping[str, Any], before: Document) -> Mapping[str, Any]:
    """Our one rule on top of api-smart-diff: a property removed from a request body schema that
    rejects unknown members (``additionalProperties: false``) breaks callers that still send it.
    api-smart-diff calls such a removal non-breaking."""
    path = change["path"]
    if (
        change["type"] != "non-breaking"
        or change["action"] != "remove"
        or len(path) < 9
        or path[0] != "paths"
        or path[3] != "requestBody"
        or path[-2] != "properties"
    ):
        return change
    owner = _node_at(before, path[:-2])
    if isinstance(owner, Mapping) and owner.get("additionalProperties") is False:
        note = "; the schema rejects unknown members, so callers still sending it get a 400"
        return {**change, "type": "breaking", "description": change["description"] + note}
    return change


def _pointer(path: Sequence[str]) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)


def _locate(path: Sequence[str]) -> tuple[str, str]:
    if len(path) >= 3 and path[0] == "paths" and path[2] in HTTP_METHODS:
        return f"{path[2].upper()} {path[1]}", _pointer(path[3:])
    if len(path) >= 2 and path[0] == "paths":
        return path[1], _pointer(path[2:])
    return _pointer(path[:3]), _pointer(path[3:])


def _describe(change: Mapping[str, Any]) -> str:
    # api-smart-diff's sentences are sometimes empty or half-filled; the pointer always says where.
    text = " ".join(str(change["description"]).split())
    return text if text and "undefined" not in text else f"[{str(change['action']).capitalize()}]"


def _is_documentation(path: Sequence[str]) -> bool:
    # Wording and examples: they change no request or response that the API accepts or sends.
    return bool(path) and (
        path[0] in {"info", "tags", "externalDocs", "servers"}
        or path[-1] in {"description", "summary", "example", "examples", "externalDocs"}
        or "example" in path
        or "examples" in path
    )


def _major(version: str, which: str) -> int:
    match = VERSION.match(version.strip())
    if match is None:
        raise UsageError(f"{which} info.version {version!r} is not MAJOR.MINOR.PATCH")
    return int(match.group(1))


def compare(before: Document, after: Document, base: str) -> Report:
    """Classifies the changes from ``before`` to ``after`` and decides whether they may merge.

    Raises:
        UsageError: a tool is missing, or an ``info.version`` is not a version number.
    """
    base_version = str(before.get("info", {}).get("version", ""))
    head_version = str(after.get("info", {}).get("version", ""))
    buckets: dict[str, list[Change]] = {"breaking": [], "non-breaking": [], "other": []}
    seen: set[Change] = set()
    documentation = 0
    for raw in classify(before, after):
        path = raw["path"]
        if path and path[0] == "components" and path[1:2] and path[1] not in KEPT_COMPONENT_KINDS:
            continue
        change = _strict_request_removals(raw, before)
        if change["type"] != "breaking" and _is_documentation(path):
            documentation += 1
            continue
        item = Change(str(change["type"]), *_locate(path), _describe(change))
        if item not in seen:
            seen.add(item)
            buckets.get(item.kind, buckets["other"]).append(item)
    breaking = buckets["breaking"]
    old_major, new_major = _major(base_version, "BASE"), _major(head_version, "the spec's")
    if not breaking:
        ok, message = True, "no breaking change"
    elif new_major > old_major:
        ok = True
        message = (
            f"{len(breaking)} breaking change(s), allowed by the new major version "
            f"{base_version} -> {head_version}"
        )
    else:
        ok = False
        message = (
            f"{len(breaking)} breaking change(s) but info.version {base_version} -> "
            f"{head_version} keeps major version {old_major}. Make the change backward "
            f"compatible, or bump info.version to {old_major + 1}.0.0 and tell the API's callers."
        )
    return Report(
        base=base,
        base_version=base_version,
        head_version=head_version,
        breaking=breaking,
        non_breaking=buckets["non-breaking"],
        other=buckets["other"],
        documentation=documentation,
        ok=ok,
        message=message,
    )


def _render(report: Report, spec: str) -> str:
    lines = [
        f"spec-diff: {spec} against {report.base} "
        f"(info.version {report.base_version} -> {report.head_version})"
    ]
    sections = (
        ("Breaking changes", report.breaking),
        ("Non-breaking changes", report.non_breaking),
        ("Other changes (deprecations, unclassified: review them)", report.other),
    )
    for title, changes in sections:
        lines.append(f"{title}: {len(changes)}")
        lines.extend(f"  {c.where}  {c.at}\n      {c.description}" for c in changes)
    lines.append(f"Documentation-only changes (descriptions, examples): {report.documentation}")
    lines.append(("OK: " if report.ok else "FAIL: ") + report.message)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git ref (main, HEAD~1, v1.2.0) or file")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    try:
        report = compare(load_base(args.base, args.spec), _load(args.spec), args.base)
    except UsageError as error:
        print(f"spec-diff: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(asdict(report), indent=2))
    else:
        spec = args.spec.resolve()
        print(_render(report, str(spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec)))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
