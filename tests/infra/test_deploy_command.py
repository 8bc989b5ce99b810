"""`make deploy` without credentials says what deploying needs before CDK runs at all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _credentials_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # -o install: the environment is installed already; only the check runs.
    return subprocess.run(
        ["make", "-s", "-o", "install", "aws-credentials"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _without_aws(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # No ~/.aws profiles either.
    return {**env, "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config")}


def test_deploy_without_credentials_names_credentials_and_bootstrap(tmp_path: Path) -> None:
    result = _credentials_check(_without_aws(tmp_path))
    assert result.returncode != 0
    assert "no AWS credentials found" in result.stderr
    assert "AWS_PROFILE" in result.stderr
    assert "make bootstrap" in result.stderr


def test_deploy_with_credentials_goes_on_to_cdk(tmp_path: Path) -> None:
    env = {
        **_without_aws(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",  # a dummy: nothing is called
        "AWS_SECRET_ACCESS_KEY": "dummy-secret-for-the-check",
    }
    result = _credentials_check(env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
