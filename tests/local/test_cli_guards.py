"""The command line refuses early and clearly instead of half-starting."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from currency_api.cli import main


def test_serve_on_a_busy_port_fails_before_touching_the_local_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port} is in use" in err
    assert "--port" in err
    assert not (tmp_path / ".currency-api").exists()


def test_token_scope_without_a_service_client_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--scope", "currencies/read"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--client service" in err
    # The token command's usage, not the top-level one.
    assert err.startswith("usage: currency-api token ")
    assert "{serve,seed,token}" not in err


def test_token_scope_with_a_user_prints_the_token_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--user", "reader", "--scope", "currencies/read"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("usage: currency-api token ")


@pytest.mark.parametrize("port", ["0", "65536", "99999", "abc"])
def test_serve_refuses_a_port_outside_1_to_65535_with_usage_not_a_traceback(
    port: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port: expected a" in err
    assert "Traceback" not in err
    assert not (tmp_path / ".currency-api").exists()
