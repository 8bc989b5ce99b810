"""Builds the Lambda asset without Docker: pip for the Lambda platform, our code, .pyc files.

The asset's root holds ``currency_api/``, ``handlers/``, ``spec/`` and the runtime
dependencies from pyproject.toml's ``[project] dependencies`` (less boto3 and botocore, which
the Lambda runtime ships), installed by ``pip --platform ... --only-binary=:all:`` for the
runtime's Python version. Each ``.py`` file gets a ``.pyc`` compiled by an interpreter of
that version with ``--invalidation-mode unchecked-hash``: the deployment folder is read-only
and zip extraction does not keep source timestamps, so timestamp-checked caches would be
ignored and every cold start would compile again (Python docs, "Cached bytecode invalidation",
PEP 552).

To stay well under 10 MB zipped, what the function never reads is left out: Swagger UI's
source maps and unused bundles, and the symbol tables of the compiled extensions (stripped
with ``llvm-strip`` when it is installed). When .pyc files are made, the dependencies ship
as .pyc only (sourceless, legacy layout), which halves their size: a traceback through a
dependency then shows file and line but not the source text; our own packages keep their
sources beside their .pyc.

Builds are keyed by a hash of their inputs (sources, requirements, target, compiler, and this
file) and kept under ``build/lambda-asset/``; CDK is given the same hash, so unchanged inputs
are never rebuilt, by CDK or by us.
"""

from __future__ import annotations

import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from currency_api.spec_document import write_spec_cache

#: The Lambda runtime's Python (SnapStart for Python needs 3.12 or later). Change it here and
#: the runtime, pip's target and the .pyc compiler follow.
LAMBDA_PYTHON: Final = "3.13"
LAMBDA_RUNTIME: Final = cast(
    lambda_.Runtime, getattr(lambda_.Runtime, "PYTHON_" + LAMBDA_PYTHON.replace(".", "_"))
)
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64
#: pip platform tags for Lambda's arm64 (Graviton) Amazon Linux 2023 (glibc 2.34).
LAMBDA_PLATFORMS: Final = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")

#: Distributions the Lambda Python runtime already ships (AWS Lambda developer guide,
#: "Runtime-included SDK versions"); leaving them out keeps the asset small.
RUNTIME_PROVIDED: Final = frozenset({"boto3", "botocore", "s3transfer"})

#: Our packages and the contract, relative to the repository root.
PACKAGES: Final = ("currency_api", "handlers")
DATA_DIRS: Final = ("spec",)
#: Modules that only local runs use: the embedded emulators (which import moto) and the CLI.
LOCAL_ONLY: Final = ("currency_api/local.py", "currency_api/cli.py")

#: What pip leaves that the function never reads: console scripts, the Swagger UI files
#: that Connexion's page (index.j2) does not load (source maps, the ES-module bundles), and
#: the Powertools utilities besides Metrics (currency_api.metrics imports only Metrics, which
#: loads ``utilities/__init__`` and ``utilities/jmespath_utils``; the asset test runs it).
_PRUNE: Final = (
    "bin",
    "swagger_ui_bundle/vendor/*/*.map",
    "swagger_ui_bundle/vendor/*/swagger-ui-es-bundle*.js",
    "swagger_ui_bundle/vendor/*/swagger-ui.js",
    "aws_lambda_powertools/event_handler",
    "aws_lambda_powertools/utilities/[!_j]*",
)
_CACHE_DIR: Final = Path("build") / "lambda-asset"
_DONE: Final = ".complete"
#: Builds kept in the cache: the Lambda's and this machine's, for a few recent source states.
_KEEP_BUILDS: Final = 6
_NAME: Final = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class BundlingError(RuntimeError):
    """The asset could not be built; the message says which step failed."""


@dataclass(frozen=True, slots=True)
class Target:
    """The interpreter and platform an asset is built for.

    ``platforms`` empty means this machine (pip's default); ``python`` is ``"3.13"``-style.
    """

    python: str
    platforms: tuple[str, ...] = ()

    @classmethod
    def lambda_runtime(cls) -> Target:
        """The deployed function: Python :data:`LAMBDA_PYTHON` on arm64 Linux."""
        return cls(python=LAMBDA_PYTHON, platforms=LAMBDA_PLATFORMS)

    @classmethod
    def this_machine(cls) -> Target:
        """The running interpreter on this machine (for tests that import the asset)."""
        return cls(python=f"{sys.version_info.major}.{sys.version_info.minor}")

    def pip_options(self) -> list[str]:
        """pip install options selecting wheels for this target."""
        options = ["--only-binary=:all:"]
        if self.platforms:
            options += ["--implementation", "cp", "--python-version", self.python]
            for tag in self.platforms:
                options += ["--platform", tag]
        return options


@dataclass(frozen=True, slots=True)
class Compiler:
    """An interpreter that writes .pyc files for the target's Python version."""

    executable: Path
    magic: str  # importlib.util.MAGIC_NUMBER in hex: what makes a .pyc loadable


@dataclass(frozen=True)
class AssetInputs:
    """Everything an asset is made from, read from the repository at ``root``.

    ``compiler`` writes the .pyc files (None: sources only); ``stripper`` removes symbol
    tables from compiled extensions (None: they ship as pip installed them).
    """

    root: Path
    target: Target
    compiler: Compiler | None
    stripper: Path | None = None
    requirements: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "requirements", tuple(runtime_requirements(self.root)))

    def source_files(self) -> list[Path]:
        """Our files that go into the asset, relative to ``root``, sorted."""
        files: list[Path] = []
        for top in (*PACKAGES, *DATA_DIRS):
            base = self.root / top
            if not base.is_dir():
                raise BundlingError(f"{base} is missing: the asset needs it")
            for path in sorted(base.rglob("*")):
                relative = path.relative_to(self.root)
                if path.is_file() and _is_runtime_file(relative):
                    files.append(relative)
        return files

    def fingerprint(self) -> str:
        """SHA-256 over the inputs: equal fingerprints mean byte-for-byte the same asset."""
        digest = hashlib.sha256()

        def add(label: str, value: str | bytes) -> None:
            data = value.encode() if isinstance(value, str) else value
            digest.update(f"{label}:{len(data)}:".encode())
            digest.update(data)

        add("recipe", Path(__file__).read_bytes())
        add("python", self.target.python)
        add("platforms", ",".join(self.target.platforms) or f"this {platform.machine()}")
        add("requirements", "\n".join(self.requirements))
        add("compiler", self.compiler.magic if self.compiler else "none")
        add("stripper", "strip" if self.stripper else "none")
        for relative in self.source_files():
            add("path", relative.as_posix())
            add("content", (self.root / relative).read_bytes())
        return digest.hexdigest()


def runtime_requirements(root: Path) -> list[str]:
    """pyproject.toml's ``[project] dependencies`` without what the runtime ships.

    Raises:
        BundlingError: pyproject.toml has no ``[project] dependencies``.
    """
    with (root / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file).get("project", {})
    dependencies = project.get("dependencies")
    if not isinstance(dependencies, list):
        raise BundlingError("pyproject.toml has no [project] dependencies list")
    return [req for req in dependencies if _distribution(req) not in RUNTIME_PROVIDED]


def find_compiler(python: str, *, extra: Iterable[Path] = ()) -> Compiler | None:
    """An interpreter of version ``python`` (e.g. ``"3.13"``), or None if there is none.

    Looks at ``$LAMBDA_BUILD_PYTHON``, ``python3.13`` on PATH, then pyenv's versions folder.
    Each candidate is run to confirm its version (a pyenv shim may name a version that is not
    active).
    """
    name = f"python{python}"
    candidates: list[str] = [os.environ.get("LAMBDA_BUILD_PYTHON", ""), *map(str, extra)]
    candidates.append(shutil.which(name) or "")
    for home in {Path.home(), Path("/root")}:
        pattern = str(home / ".pyenv" / "versions" / f"{python}*" / "bin" / name)
        candidates += sorted(glob.glob(pattern), reverse=True)
    candidates += [f"/usr/local/bin/{name}", f"/usr/bin/{name}"]
    probe = "import sys, importlib.util; print('%d.%d' % sys.version_info[:2]);"
    probe += " print(importlib.util.MAGIC_NUMBER.hex())"
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not Path(candidate).is_file():
            continue
        try:
            result = subprocess.run(  # noqa: S603  (an interpreter path we found, fixed args)
                [candidate, "-I", "-c", probe],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = result.stdout.split()
        if result.returncode == 0 and len(lines) == 2 and lines[0] == python:
            return Compiler(executable=Path(candidate), magic=lines[1])
    return None


def build(inputs: AssetInputs, out_dir: Path, *, log: Any = None) -> Path:
    """Build the asset into ``out_dir`` (created if missing; expected empty).

    Raises:
        BundlingError: pip, the stripper or the compiler failed; the message holds their
            output.
    """
    say = log or _stderr
    out_dir.mkdir(parents=True, exist_ok=True)
    if inputs.requirements:
        say(f"pip: installing {', '.join(inputs.requirements)} for {inputs.target}")
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "--no-compile",
                "--target",
                str(out_dir),
                *inputs.target.pip_options(),
                *inputs.requirements,
            ],
            "pip install",
        )
    _prune(out_dir)
    dependencies = sorted(entry for entry in out_dir.iterdir())
    if inputs.stripper is not None:
        for library in sorted(out_dir.rglob("*.so")):
            _run([str(inputs.stripper), "--strip-unneeded", str(library)], "strip")
    if inputs.compiler is not None:
        # Sourceless: foo.pyc beside where foo.py was, which the import system loads when
        # there is no foo.py (PEP 3147, "Case 4: legacy pyc files and source-less imports").
        compile_dependencies = [entry for entry in dependencies if _is_python_tree(entry)]
        if compile_dependencies:
            _compile(inputs.compiler, compile_dependencies, legacy=True)
            for source in _python_sources(compile_dependencies):
                if source.with_suffix(".pyc").is_file():
                    source.unlink()
    for relative in inputs.source_files():
        destination = out_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(inputs.root / relative, destination)
    # The parsed spec as JSON, so a cold start skips YAML (the asset is read-only at run time).
    write_spec_cache(out_dir / "spec" / "openapi.yaml")
    if inputs.compiler is not None:
        _compile(inputs.compiler, [out_dir / package for package in PACKAGES], legacy=False)
    return out_dir


def cached_build(inputs: AssetInputs, *, log: Any = None) -> Path:
    """The asset for ``inputs``, built once and kept under ``build/lambda-asset/<hash>``."""
    fingerprint = inputs.fingerprint()
    cache = inputs.root / _CACHE_DIR / fingerprint
    if (cache / _DONE).is_file():
        os.utime(cache / _DONE)  # most recently used: kept by _evict
        return cache
    staging = cache.with_name(f"{fingerprint}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        build(inputs, staging, log=log)
        (staging / _DONE).write_text(fingerprint + "\n", encoding="utf-8")
        if cache.exists():  # an earlier, interrupted attempt: replace it
            shutil.rmtree(cache)
        staging.rename(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _evict(cache.parent, keep=_KEEP_BUILDS)
    return cache


def _evict(folder: Path, *, keep: int) -> None:
    """Delete all but the ``keep`` most recently used builds (each is tens of MB)."""
    builds = [entry for entry in folder.iterdir() if (entry / _DONE).is_file()]
    builds.sort(key=lambda entry: (entry / _DONE).stat().st_mtime, reverse=True)
    for stale in builds[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


def copy_asset(source: Path, destination: Path) -> None:
    """Copy a built asset (without the cache marker) into ``destination``."""
    shutil.copytree(source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns(_DONE))


def asset_files(directory: Path) -> Iterator[Path]:
    """Every file of an asset directory, relative to it, sorted."""
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != _DONE:
            yield path.relative_to(directory)


@jsii.implements(ILocalBundling)
class LocalBundler:
    """CDK local bundling that builds the asset with pip and never returns False.

    Returning False would make CDK fall back to Docker silently; any failure raises instead,
    so synthesis stops with the reason.
    """

    def __init__(self, inputs: AssetInputs) -> None:
        self.inputs = inputs

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Fill ``output_dir`` with the asset (from the build cache when it is there).

        jsii passes the bundling options as one struct; they are not needed here.
        """
        built = cached_build(self.inputs)
        copy_asset(built, Path(output_dir))
        return True


@dataclass(frozen=True, slots=True)
class LambdaAsset:
    """The function's code and how it was built."""

    code: lambda_.Code
    inputs: AssetInputs
    fingerprint: str

    @property
    def compiled(self) -> bool:
        """Whether the asset carries .pyc files for the runtime's Python."""
        return self.inputs.compiler is not None


def lambda_asset(root: Path, *, target: Target | None = None) -> LambdaAsset:
    """The function's code asset, bundled locally; warns loudly when no .pyc can be made."""
    target = target or Target.lambda_runtime()
    compiler = find_compiler(target.python)
    if compiler is None:
        _stderr(no_compiler_warning(target.python))
    stripper = find_stripper()
    if stripper is None:
        _stderr("note: llvm-strip not found; compiled extensions keep their symbol tables")
    inputs = AssetInputs(root=root, target=target, compiler=compiler, stripper=stripper)
    fingerprint = inputs.fingerprint()
    code = lambda_.Code.from_asset(
        str(root),
        asset_hash=fingerprint,
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            # Never pulled: LocalBundler always bundles or raises. CDK requires an image.
            image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{target.python}"),
            # jsii calls try_bundle(output_dir, options_struct), not with keyword arguments
            # as the generated protocol says; cast to satisfy the type checker.
            local=cast(ILocalBundling, LocalBundler(inputs)),
        ),
    )
    return LambdaAsset(code=code, inputs=inputs, fingerprint=fingerprint)


def no_compiler_warning(python: str) -> str:
    """The warning printed when no interpreter can compile .pyc files for ``python``."""
    line = "!" * 78
    return (
        f"{line}\n"
        f"WARNING: no python{python} interpreter found (PATH, ~/.pyenv/versions, "
        "$LAMBDA_BUILD_PYTHON).\n"
        f"The Lambda asset will carry NO .pyc files for Python {python}: every cold start\n"
        "will compile the sources again (hundreds of milliseconds). Install Python "
        f"{python}\nor set LAMBDA_BUILD_PYTHON to one, then synthesize again.\n{line}"
    )


def _distribution(requirement: str) -> str:
    match = _NAME.match(requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_runtime_file(relative: Path) -> bool:
    if "__pycache__" in relative.parts or relative.suffix in {".pyc", ".pyo"}:
        return False
    if any(part.startswith(".") for part in relative.parts):
        return False
    return relative.as_posix() not in LOCAL_ONLY


def find_stripper() -> Path | None:
    """``llvm-strip``, which strips ELF files of any architecture, or None."""
    found = shutil.which("llvm-strip")
    return Path(found) if found else None


def _prune(out_dir: Path) -> None:
    for pattern in _PRUNE:
        for path in out_dir.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    for cache in list(out_dir.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    for entry in list(out_dir.iterdir()):
        stem = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name
        if _distribution(stem) in RUNTIME_PROVIDED:
            shutil.rmtree(entry, ignore_errors=True)


def _is_python_tree(entry: Path) -> bool:
    if entry.name.endswith((".dist-info", ".data")):
        return False
    return entry.suffix == ".py" if entry.is_file() else entry.is_dir()


def _python_sources(entries: Iterable[Path]) -> Iterator[Path]:
    for entry in entries:
        if entry.is_file():
            yield entry
        else:
            yield from entry.rglob("*.py")


def _compile(compiler: Compiler, paths: Sequence[Path], *, legacy: bool) -> None:
    """compileall with hash-based, unchecked .pyc files (``-b``: beside the sources)."""
    command = [str(compiler.executable), "-I", "-m", "compileall", "-q"]
    command += ["--invalidation-mode", "unchecked-hash"]
    if legacy:
        command.append("-b")
    _run([*command, *map(str, paths)], "compileall")


def _run(command: Sequence[str], step: str) -> None:
    result = subprocess.run(  # noqa: S603  (fixed commands built above, no shell)
        list(command), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BundlingError(
            f"{step} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
