"""The Lambda asset: small, only runtime files, compiled for its Python, built once, and it runs."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from packaging.requirements import Requirement

from currency_api.metrics import UNROUTED
from infra import bundling
from infra.bundling import (
    AssetInputs,
    Compiler,
    LocalBundler,
    Target,
    asset_files,
    cached_build,
    find_compiler,
    find_stripper,
    lambda_asset,
)
from infra.stack import REPO_ROOT
from tests.emf import emf_records
from tests.infra.conftest import Synthesized
from tests.lambda_.events import fresh_interpreter_environment

MAX_ZIPPED_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="session")
def deployed_asset(stack: Synthesized) -> Path:
    """The asset folder the synthesized function's code points at."""
    function = next(iter(stack.resources("AWS::Lambda::Function").values()))
    key: str = function["Properties"]["Code"]["S3Key"]
    folder = stack.outdir / f"asset.{key.removesuffix('.zip')}"
    assert folder.is_dir(), folder
    return folder


def zipped_size(folder: Path) -> int:
    """Bytes of the folder zipped as the CDK CLI does (deflate, default level)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in asset_files(folder):
            archive.write(folder / relative, relative.as_posix())
    return buffer.tell()


def test_zipped_asset_is_under_10_mb(
    deployed_asset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = zipped_size(deployed_asset)
    with capsys.disabled():
        print(f"\nLambda asset: {size / 1024 / 1024:.2f} MiB zipped ({size:,} bytes)")
    assert size < MAX_ZIPPED_BYTES


def test_asset_holds_only_our_code_the_spec_and_dependencies(deployed_asset: Path) -> None:
    top = {path.name for path in deployed_asset.iterdir()}
    assert {"currency_api", "handlers", "spec"} <= top
    assert (deployed_asset / "spec" / "openapi.yaml").is_file()
    assert (deployed_asset / "currency_api" / "lambda_function.py").is_file()
    for absent in ("tests", "infra", "boto3", "botocore", "s3transfer", "bin", "moto", "pytest"):
        assert absent not in top, absent
    assert not any(name.startswith(("boto3-", "botocore-", "pytest", "moto-")) for name in top)
    for local_only in bundling.LOCAL_ONLY:
        assert not (deployed_asset / local_only).exists(), local_only
    assert not list(deployed_asset.rglob("*.map")), "Swagger UI source maps are never served"


def test_asset_carries_pyc_files_for_the_runtime_python(deployed_asset: Path) -> None:
    compiler = find_compiler(bundling.LAMBDA_PYTHON)
    if compiler is None:
        pytest.skip(f"no python{bundling.LAMBDA_PYTHON} here: the build warned and shipped sources")
    tag = f"cpython-{bundling.LAMBDA_PYTHON.replace('.', '')}"
    for package in bundling.PACKAGES:
        for source in (deployed_asset / package).rglob("*.py"):
            cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            assert cached.is_file(), cached
            assert cached.read_bytes()[:4] == bytes.fromhex(compiler.magic)
    connexion = deployed_asset / "connexion"
    assert (connexion / "__init__.pyc").is_file()
    assert not (connexion / "__init__.py").exists()
    flags = int.from_bytes((connexion / "__init__.pyc").read_bytes()[4:8], "little")
    assert flags == 0b01, "hash-based and unchecked (PEP 552): source times do not matter"


def test_bundling_warns_loudly_when_no_interpreter_can_compile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bundling, "find_compiler", lambda *_a, **_k: None)
    asset = lambda_asset(REPO_ROOT)  # bundling happens later, when a function binds the code
    assert not asset.compiled
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert f"NO .pyc files for Python {bundling.LAMBDA_PYTHON}" in err


def test_unchanged_inputs_do_not_rebuild(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inputs = AssetInputs(
        root=REPO_ROOT,
        target=Target.lambda_runtime(),
        compiler=find_compiler(bundling.LAMBDA_PYTHON),
        stripper=find_stripper(),
    )
    same = AssetInputs(
        root=REPO_ROOT, target=inputs.target, compiler=inputs.compiler, stripper=inputs.stripper
    )
    assert inputs.fingerprint() == same.fingerprint()
    cached_build(inputs)  # built by the session's synthesis already, or now

    def no_build(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("rebuilt although nothing changed")

    monkeypatch.setattr(bundling, "build", no_build)
    monkeypatch.setattr(bundling, "_run", no_build)
    assert LocalBundler(inputs).try_bundle(str(tmp_path / "out"))
    assert (tmp_path / "out" / "spec" / "openapi.yaml").is_file()


def test_a_changed_source_or_dependency_changes_the_asset_hash(tmp_path: Path) -> None:
    for name in ("pyproject.toml",):
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    for folder in (*bundling.PACKAGES, *bundling.DATA_DIRS):
        shutil.copytree(
            REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )

    def fingerprint() -> str:
        return AssetInputs(
            root=tmp_path, target=Target.lambda_runtime(), compiler=None
        ).fingerprint()

    before = fingerprint()
    handler = tmp_path / "handlers" / "health.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    after_source = fingerprint()
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    assert "\ndependencies = [\n" in text
    pyproject.write_text(
        text.replace(
            "\ndependencies = [\n", '\ndependencies = [\n    "snapshot-restore-py>=1.0",\n', 1
        )
    )
    after_dependency = fingerprint()
    assert len({before, after_source, after_dependency}) == 3
    requirements = AssetInputs(
        root=tmp_path, target=Target.lambda_runtime(), compiler=None
    ).requirements
    assert "snapshot-restore-py>=1.0" in requirements
    assert not any(Requirement(r).name in {"boto3", "botocore"} for r in requirements)


# --- the asset runs ----------------------------------------------------------------------

HEALTH_EVENT: dict[str, Any] = {
    # An HTTP API payload format 2.0 event, as API Gateway sends it (API Gateway developer
    # guide, "Create AWS Lambda proxy integrations for HTTP APIs").
    "version": "2.0",
    "routeKey": "GET /health",
    "rawPath": "/health",
    "rawQueryString": "",
    "cookies": [],
    "headers": {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-6750a1b2-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    },
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": "GET",
            "path": "/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "CxZ1Zh1ZoAMEMaA=",
        "routeKey": "GET /health",
        "stage": "$default",
        "time": "29/Nov/2026:18:00:00 +0000",
        "timeEpoch": 1795975200000,
    },
    "isBase64Encoded": False,
}

RUNNER = r"""
import json, sys
asset, sdk, event_file = sys.argv[1:4]
sys.path[:0] = [asset, sdk]
assert not [p for p in sys.path if "site-packages" in p], sys.path
import currency_api.lambda_function as entry
import connexion, cryptography.hazmat.bindings._rust
assert connexion.__file__.startswith(asset), connexion.__file__
event = json.load(open(event_file))
answers = []
for path in ("/health", "/openapi.json"):
    request = json.loads(json.dumps(event).replace('"/health"', json.dumps(path)))
    answers.append(entry.lambda_handler(request, None))
# Connexion's `import requests` is deferred (currency_api/deferred_imports.py) and the garbage
# collector runs again after init (lambda_function.py).
from currency_api import deferred_imports
import gc
assert deferred_imports.is_deferred("requests"), "requests was loaded on the cold path"
assert gc.isenabled() and gc.get_freeze_count() > 0
print(json.dumps(answers))
"""


def sdk_distributions() -> set[str]:
    """boto3 and everything it needs, as installed here (the runtime's own SDK stands in)."""
    seen: set[str] = set()
    todo = ["boto3"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


@pytest.fixture(scope="session")
def sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only boto3 and its dependencies (links to this environment's)."""
    folder = tmp_path_factory.mktemp("sdk")
    for name in sdk_distributions():
        distribution = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in distribution.files or []}
        for top in tops:
            if top.endswith(".dist-info") or top == ".." or top.startswith("__"):
                continue
            source = Path(str(distribution.locate_file(top)))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)
    return folder


@pytest.fixture(scope="session")
def native_asset() -> Path:
    """The same asset built for this machine's platform and Python (so it can run here)."""
    compiler = Compiler(executable=Path(sys.executable), magic=importlib.util.MAGIC_NUMBER.hex())
    inputs = AssetInputs(
        root=REPO_ROOT, target=Target.this_machine(), compiler=compiler, stripper=find_stripper()
    )
    return cached_build(inputs)


def test_asset_answers_a_v2_event_in_a_fresh_interpreter(
    native_asset: Path, sdk_dir: Path, tmp_path: Path
) -> None:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(HEALTH_EVENT))
    # The Powertools Metrics the asset keeps (bundling._PRUNE) run too.
    environment = fresh_interpreter_environment(METRICS="emf")
    result = subprocess.run(  # noqa: S603  (our interpreter, our script and files)
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            RUNNER,
            str(native_asset),
            str(sdk_dir),
            str(event_file),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    records = emf_records(result.stdout)
    assert [record["operationId"] for record in records] == ["getHealth", UNROUTED]
    health, spec = json.loads(result.stdout.strip().splitlines()[-1])
    assert health["statusCode"] == 200, health
    assert json.loads(health["body"]) == {"status": "ok"}
    assert spec["statusCode"] == 200, spec
    assert json.loads(spec["body"])["info"]["title"] == "Currency API"


def test_failed_local_bundling_stops_synthesis_instead_of_trying_docker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copy2(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for folder in (*bundling.PACKAGES, *bundling.DATA_DIRS):  # no build cache here
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)

    def failing_build(*_args: Any, **_kwargs: Any) -> Path:
        raise bundling.BundlingError("pip install failed (exit 1): no wheel for the platform")

    monkeypatch.setattr(bundling, "build", failing_build)
    stack = Stack(App(), "Broken")
    with pytest.raises(
        RuntimeError, match=r"Failed to bundle asset .*pip install failed"
    ) as raised:
        lambda_.Function(
            stack,
            "Function",
            runtime=bundling.LAMBDA_RUNTIME,
            handler="currency_api.lambda_function.lambda_handler",
            code=lambda_asset(tmp_path).code,
        )
    assert "docker" not in str(raised.value).lower()
