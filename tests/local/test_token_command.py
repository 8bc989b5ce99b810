"""`currency-api token` works against the embedded emulator and refuses anything else.

The command reads the state `serve` wrote (.currency-api/local.json in the working folder);
these tests write that state themselves and run the command in process.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import boto3
import pytest

from currency_api import cli, local
from tests import tokens
from tests.jwks_server import JwksServer

#: TEST-NET-1 (RFC 5737): not loopback, and nothing answers there.
UNROUTABLE = "http://192.0.2.1:5000"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def save_state(cognito: local.LocalCognito, **changes: str) -> None:
    dataclasses.replace(cognito, **changes).save()


def run_token(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["token", *args])
    out, err = capsys.readouterr()
    return code, out, err


def free_loopback_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_token_prints_a_password_sign_in_token_of_the_demo_admin(
    workdir: Path, cognito: local.LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(cognito)
    code, out, _err = run_token(capsys)
    assert code == 0
    claims = tokens.claims_of(out.strip())
    assert claims["username"] == cognito.admin_username
    assert claims["client_id"] == cognito.public_client_id
    assert claims["cognito:groups"] == [local.ADMIN_GROUP]


def test_token_for_the_service_client_is_labelled_local_only(
    workdir: Path, cognito: local.LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(cognito)
    code, out, err = run_token(capsys, "--client", "service", "--scope", "currencies/read")
    assert code == 0
    assert "LOCAL-ONLY" in err
    claims = tokens.claims_of(out.strip())
    assert claims["client_id"] == cognito.service_client_id
    assert claims["scope"] == "currencies/read"


def test_token_ignores_an_aws_endpoint_in_the_environment(
    workdir: Path,
    cognito: local.LocalCognito,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", UNROUTABLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNROUTABLE)
    save_state(cognito)
    code, out, _err = run_token(capsys, "--user", cognito.reader_username)
    assert code == 0
    assert tokens.claims_of(out.strip())["username"] == cognito.reader_username


def test_token_refuses_without_local_state(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_token(capsys)
    assert (code, out) == (1, "")
    assert "start the local API first" in err
    assert str(workdir / ".currency-api" / "local.json") in err  # where it looked


def test_token_refuses_a_malformed_state_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local.STATE_FILE.parent.mkdir()
    local.STATE_FILE.write_text('{"endpoint": "http://127.0.0.1:1"}')
    code, out, err = run_token(capsys)
    assert (code, out) == (1, "")
    assert "not valid local state" in err


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://cognito-idp.us-east-1.amazonaws.com",
        UNROUTABLE,
        "https://127.0.0.1:5000",
        "http://127.0.0.1.example.com:5000",
    ],
)
@pytest.mark.parametrize("who", [[], ["--client", "service"]], ids=["user", "service"])
def test_token_refuses_an_endpoint_that_is_not_the_loopback_emulator(
    workdir: Path,
    cognito: local.LocalCognito,
    capsys: pytest.CaptureFixture[str],
    endpoint: str,
    who: list[str],
) -> None:
    save_state(cognito, endpoint=endpoint)
    code, out, err = run_token(capsys, *who)
    assert (code, out) == (1, "")
    assert "refused" in err
    assert "not the embedded emulator" in err


def test_token_refuses_a_pool_the_emulator_does_not_hold(
    workdir: Path, cognito: local.LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(cognito, user_pool_id="us-east-1_NotInTheEmulator")
    code, out, err = run_token(capsys, "--client", "service")
    assert (code, out) == (1, "")
    assert "does not exist in the emulator" in err


def test_token_refuses_when_no_emulator_answers(
    workdir: Path, cognito: local.LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(cognito, endpoint=free_loopback_url())
    code, out, err = run_token(capsys, "--client", "service")
    assert (code, out) == (1, "")
    assert "no emulator answers" in err


def test_token_reports_a_failed_sign_in_without_a_traceback(
    workdir: Path, cognito: local.LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(cognito)
    code, out, err = run_token(capsys, "--user", "nobody")
    assert (code, out) == (1, "")
    assert "sign-in as 'nobody' failed" in err
    assert "Traceback" not in err


def test_ensure_emulator_refuses_a_client_bound_elsewhere(cognito: local.LocalCognito) -> None:
    elsewhere = boto3.client("cognito-idp", region_name=cognito.region, endpoint_url=UNROUTABLE)
    with pytest.raises(local.NotTheEmulator):
        local.ensure_emulator(cognito, elsewhere)


def test_only_the_emulators_jwks_counts_as_serving_its_key(cognito: local.LocalCognito) -> None:
    assert local.serves_emulator_key(cognito.jwks_url)
    other = JwksServer([tokens.public_jwk(tokens.other_rsa_key("other"), local.MOTO_KID)]).start()
    try:
        assert not local.serves_emulator_key(other.url)
    finally:
        other.stop()
    assert not local.serves_emulator_key(f"{UNROUTABLE}/pool/.well-known/jwks.json")


def test_mint_service_token_refuses_a_state_off_loopback(cognito: local.LocalCognito) -> None:
    remote = dataclasses.replace(cognito, endpoint="https://cognito-idp.us-east-1.amazonaws.com")
    with pytest.raises(local.NotTheEmulator):
        local.mint_service_token(remote, ["currencies/write"])
