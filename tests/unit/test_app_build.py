"""How create_app builds: the spec loader, the skipped schema check, Connexion's extensions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from connexion.exceptions import InvalidSpecification
from connexion.spec import OpenAPISpecification, Specification
from connexion.uri_parsing import OpenAPIURIParser
from connexion.validators.parameter import ParameterValidator

from currency_api.app import SPEC_PATH, create_app, load_spec
from currency_api.connexion_extensions import CompiledParameterValidator
from currency_api.settings import Settings

SETTINGS = Settings(
    table_name="t",
    region="us-east-1",
    cognito_user_pool_id="us-east-1_x",
    cognito_app_client_ids=("client",),
    cognito_issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
    cognito_jwks_url="http://127.0.0.1:9/jwks.json",
)

CODE: dict[str, Any] = {
    "name": "code",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Z]{3}$"},
}


def test_load_spec_reads_the_same_document_as_the_pure_python_loader() -> None:
    assert load_spec() == yaml.safe_load(SPEC_PATH.read_text())


def test_connexion_accepts_the_spec_that_lambda_loads_without_its_check() -> None:
    # Lambda builds with validate_spec=False; this is the check it skips, run in CI.
    Specification.from_dict(load_spec())


def test_an_invalid_spec_is_refused_when_validation_is_on(tmp_path: Path) -> None:
    document = load_spec()
    document["paths"]["/health"]["get"]["responses"] = "not a mapping"
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidSpecification):
        create_app(SETTINGS, spec_path=broken)


def test_skipping_the_check_leaves_connexion_checking_afterwards(tmp_path: Path) -> None:
    create_app(SETTINGS, validate_spec=False)
    assert "_validate_spec" not in vars(OpenAPISpecification)
    with pytest.raises(InvalidSpecification):
        Specification.from_dict({"openapi": "3.0.3", "info": {}, "paths": {}})


def test_compiled_parameter_validator_lists_a_repeated_parameter_once() -> None:
    validator = CompiledParameterValidator([CODE, CODE, dict(CODE)], OpenAPIURIParser([], {}))
    assert validator.parameters["path"] == [CODE]


@pytest.mark.parametrize("value", ["EUR", "eur", "EURO", None])
def test_compiled_parameter_validator_answers_as_connexion_does(value: str | None) -> None:
    ours = CompiledParameterValidator([CODE], OpenAPIURIParser([], {}))
    theirs = ParameterValidator([CODE], OpenAPIURIParser([], {}))
    assert ours.validate_parameter("path", value, CODE) == theirs.validate_parameter(
        "path", value, CODE
    )


def test_starting_prints_no_deprecation_warning() -> None:
    # Connexion imports starlette.testclient, which warns about httpx at every start.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import currency_api.app, currency_api.cli"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
