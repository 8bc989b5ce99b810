"""Lambda-shaped package folders for the cold-start runs, one per app.

A Lambda function's package holds its runtime dependencies and nothing else: the dev venv also
holds moto, Flask, pytest and more, and Connexion imports Flask whenever it is installed. So
cold starts run with ``python -S`` (no site-packages) on a folder made by
``pip install --target``, like the CDK bundling step, with each distribution pinned to the
version installed in the venv. boto3 is added to every bundle because the Lambda runtime
provides it. Bundles are cached under bench/.build/ by the hash of what went in.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
BUILD: Final = ROOT / "bench" / ".build"

#: What each app's package holds besides boto3 (which the runtime provides).
PEER_REQUIREMENTS: Final = ("fastapi", "mangum", "pyjwt[crypto]")
BARE_REQUIREMENTS: Final = ("pyjwt[crypto]",)


def ours_requirements() -> tuple[str, ...]:
    """The project's runtime dependencies, as pyproject.toml declares them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return tuple(project["dependencies"])


def requirements(app: str) -> tuple[str, ...]:
    """The requirements of one app's package (always with boto3)."""
    extra = {"ours": ours_requirements(), "peer": PEER_REQUIREMENTS, "bare": BARE_REQUIREMENTS}
    found = extra[app]
    return found if any(r.startswith("boto3") for r in found) else (*found, "boto3")


def constraints() -> str:
    """``name==version`` of every distribution in this environment (not the project itself)."""
    lines = {
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != "currency-api"
    }
    return "\n".join(sorted(lines)) + "\n"


def bundle(app: str, log: bool = True) -> Path:
    """The package folder for ``app`` ("ours", "peer" or "bare"), built if missing.

    Raises:
        subprocess.CalledProcessError: pip could not build it (PyPI unreachable, say).
    """
    reqs = requirements(app)
    pins = constraints()
    digest = hashlib.sha256("\n".join([*reqs, pins]).encode()).hexdigest()[:16]
    target = BUILD / f"{app}-{digest}"
    if (target / ".complete").exists():
        return target
    BUILD.mkdir(parents=True, exist_ok=True)
    pins_file = BUILD / f"constraints-{digest}.txt"
    pins_file.write_text(pins)
    if log:
        print(f"bench: building the {app} package in {target.relative_to(ROOT)} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "--constraint",
            str(pins_file),
            *reqs,
        ],
        check=True,
    )
    (target / ".complete").write_text("\n".join(reqs) + "\n")
    return target
