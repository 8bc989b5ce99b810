"""Library internals that our subclasses override or rely on are the code they were written
against: an upgrade that changes one fails here, naming it, so the override is re-read before
it silently diverges (issue 12: PyJWT 2.15.1, Connexion 3.3.0).

To accept a new version: read the new source of each failing entry, adapt the override in
currency_api/ (its docstring says what it replaces and why), re-measure it in bench/, then
update the hash here.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from typing import Any

import pytest

#: "module:Qualified.name" -> sha256 of inspect.getsource(), with what depends on it.
PINNED: dict[str, tuple[str, str]] = {
    # currency_api.auth._SinglePassJWS
    "jwt.api_jws:PyJWS._decode_base64url_segment": (
        "c00c1d4615f8809dd3f46a36f4fd4f8591cc0a9860afc2b7bc0182dc099159a4",
        "replaced by a C-speed copy with the same accepted set and errors",
    ),
    "jwt.api_jws:PyJWS._verify_signature": (
        "5059a16ea8a9ad7cac4f54af234c931bb6ef34d9cf1f378e3848162c96077482",
        "wrapped: the key is chosen from the parsed header first",
    ),
    "jwt.api_jws:PyJWS.decode_complete": (
        "72798f0f952f54e347d8148fb13fc390514f9ae8e4673e271a9c9a996244f8b2",
        "must pass the caller's key through to _verify_signature, after one _load",
    ),
    "jwt.api_jws:PyJWS._load": (
        "431d1ff11ddaa78d1826c530ef7c2441907fcd274b594af76b80a254ee7be581",
        "must decode every segment through _decode_base64url_segment",
    ),
    # currency_api.auth.Authenticator.verify_noting_cache repeats PyJWT.decode's steps
    "jwt.api_jwt:PyJWT.decode_complete": (
        "6522ecbd95d6662f7e82e42c0324116424ef2c37b6716038c635488f5b38fdf6",
        "repeated: _jws.decode_complete (sig options as derived here), _decode_payload, "
        "_validate_claims with the merged options",
    ),
    "jwt.api_jwt:PyJWT.decode": (
        "99b4400c1f41526cc02e5c1eb03a2d460d89727078dbb82d0d248a5d1ca77447",
        "must add nothing to decode_complete but returning the payload",
    ),
    "jwt.api_jwt:PyJWT._merge_options": (
        "be5f7de5e4150ce69aa9f15a40172eafcdf158d247e276f5717f246d0da75b5d",
        "called once per Authenticator: must depend on the options only",
    ),
    "jwt.api_jwt:PyJWT._decode_payload": (
        "1938b575e58f43143a04f16d64db5c138d144b6452fece82d8abb713f34d6cd7",
        "called directly after the signature step",
    ),
    "jwt.api_jwt:PyJWT._validate_claims": (
        "1396d6b733cc59af1f47e7b1723bc963f14c4ea466152703c8b72013deda899b",
        "called directly with options merged once; must read the time at each call",
    ),
    "jwt.api_jwt:PyJWT.__init__": (
        "a69dc9a994b318b572bc6561faa5533ffc8f14bf0cb1bc418026912de1ce9d90",
        "keeps its JWS decoder in _jws, which Authenticator replaces",
    ),
    # currency_api.connexion_extensions: OnceAsyncOperation's plan mirrors these
    "connexion.apps.asynchronous:AsyncOperation.__call__": (
        "5435ed498983193dbc315bd8bfc87b6ff4dc73d584b538536ec3249d697ad504",
        "replaced: the handler is called from a per-operation plan",
    ),
    "connexion.apps.asynchronous:AsyncOperation.from_operation": (
        "899345123cb08ba02d9301b4dc494428a1d79eebd1dd5340a5bd59ef09e6fc80",
        "repeated, keeping the operation for the plan",
    ),
    "connexion.decorators.parameter:prep_kwargs": (
        "46eb57dd9685e1c4d9f42e7ada07ae8460be63462dc75f7bc642ce4df9b200b1",
        "the plan builds the same keyword arguments (path, query, body, security context)",
    ),
    "connexion.decorators.parameter:get_arguments": (
        "b2912a96f0107039057544eeb538f10abe93cc874a5ad9ae9e5ad9d8990ad1f7",
        "the plan follows its order: path, query, then body unless TRACE",
    ),
    "connexion.decorators.parameter:_get_path_arguments": (
        "dce2f42b8282c286cf65763606ae4c01ef5e9218c682a90a38ba824e5faa6e54",
        "the plan casts path parameters the same way, from definitions found once",
    ),
    "connexion.decorators.parameter:_get_query_arguments": (
        "77f3e0a63d78d965628d6f7cf968aa7a3633b44e17205566beeaa34849c73c99",
        "the plan merges the same defaults, computed once",
    ),
    "connexion.lifecycle:ConnexionRequest.path_params": (
        "546382a52e95ac2fc51e0585974c72f29fcda894891bf5b21aad2bc71a9482ef",
        "the plan resolves Starlette's path parameters the same way",
    ),
    "connexion.lifecycle:ConnexionRequest.query_params": (
        "f01f735c6643fe68166cf387eae2f0022e5950a79794b05725d0c8284b8f9c2e",
        "the plan resolves the query string the same way",
    ),
    "connexion.decorators.response:BaseResponseDecorator._infer_content_type": (
        "da0fd1dd66d78f0d57cc2859a0e799fac87e2f384b5c5d073d81b677e535ea4f",
        "copied into _PlannedResponse with produces read once",
    ),
    "connexion.decorators.response:BaseResponseDecorator.build_framework_response": (
        "929063da14237df2c0c711aa5f356affa1ea4768417f5edf58436a69a7041ffe",
        "called by the plan; must call self._infer_content_type",
    ),
    "connexion.decorators.response:AsyncResponseDecorator.__call__": (
        "7abcfdcec0b6fbd69eb0bdf8582ad027ea6357cd23c33068926f294fa1660beb",
        "the plan treats Starlette and Connexion responses the same way",
    ),
    "connexion.validators.abstract:AbstractRequestBodyValidator.wrap_receive": (
        "44c469448a6e46fbb6817eb8d906f6fbe7fc185536c49e56f2196bbb68369bbd",
        "must parse into the scope it returns (the body is left there for the handler); "
        "validation.SpecJSONBodyValidator.wrap_receive is its body branch without the "
        "async generator",
    ),
    "connexion.decorators.parameter:_get_body_argument_json": (
        "848df9bf9c63aa3e0121d1c85465e92391b1a91ab2c6d3e504caa861be851441",
        "the plan returns a validated body that is neither null nor a string as it is",
    ),
    # currency_api.connexion_extensions: OnceAsyncOperation.fn, OnceStarletteDecorator
    "connexion.apps.asynchronous:AsyncOperation.fn": (
        "9cad70e32840c9ec7ef2d6bb3c369f6dd1e884621146316d55588ea9c088d7ba",
        "replaced by a cached property building the same decorator once",
    ),
    "connexion.decorators.main:ASGIDecorator.__call__": (
        "7397ac94437e4d7eaf046aef93acce17a76b74e900adbc6117f5ef86b7e2d2e4",
        "replaced: uri_parser and decorate() run at the first request only",
    ),
    "connexion.decorators.main:BaseDecorator.uri_parser": (
        "140072be21d36da0e8f19717730254a3372dd8dceb83ffb9379d33fc71f8deae",
        "must depend on the operation only (it is built once)",
    ),
    "connexion.decorators.main:BaseDecorator.decorate": (
        "ecc6529a18274fdabfd122f4c2b286d429d29ef67d00094ac235976c55fd5fb8",
        "must depend on the handler and operation only (it is built once)",
    ),
    "connexion.apps.asynchronous:AsyncApp.__init__": (
        "624f5070177b0d80c27e493d7df9280d7cb6e3336835163e94f7b02f9e390df0",
        "CurrencyAsyncApp repeats it with OnceAsyncASGIApp",
    ),
    "connexion.apps.asynchronous:AsyncApi.make_operation": (
        "555eaf3ca12397b16afaa7936c6488b44141ad0d094fd7a8f04f7d034b77592e",
        "OnceAsyncApi repeats it with OnceAsyncOperation",
    ),
    # currency_api.connexion_extensions: OnceParameterDecorator
    "connexion.decorators.parameter:AsyncParameterDecorator.__call__": (
        "c3223e31eb92742ed5b1f8e508a81d85407e4c886992ff0e507b0ded26ecf029",
        "copied, with request.files() skipped where no form media type is consumed",
    ),
    "connexion.decorators.parameter:BaseParameterDecorator.__init__": (
        "a2ab5462f60aa23a74af86298294511ba690deb09121d83d380a6a66e34eb6d3",
        "sets sanitize_fn, which the subclass memoises",
    ),
    "connexion.decorators.parameter:sanitized": (
        "8ee876388896618b71205ba92c7b39a2ca85a0ca3ab1d70dad756da45135f153",
        "must stay a pure function of the name (memoised)",
    ),
    "connexion.decorators.parameter:pythonic": (
        "70c5c689dec99744379573653f54183b71da319fb29c33121891045fee528d5e",
        "must stay a pure function of the name (memoised)",
    ),
    "connexion.decorators.main:ASGIDecorator._parameter_decorator_cls": (
        "9d959264f117dae9cee40f30c3dcbf769b4c597be1587832e35d8162862dddae",
        "OnceStarletteDecorator returns OnceParameterDecorator instead",
    ),
    # connexion_extensions.middlewares(response_validation=False) leaves the layer out
    "connexion.middleware.response_validation:ResponseValidationAPI.make_operation": (
        "770d433c2951acf6c26d1b140b6ceabef85b244f4926d1e89e194b67a69e507c",
        "must pass requests straight on when responses are not validated",
    ),
    "connexion.middleware.request_validation:RequestValidationOperation.extract_content_type": (
        "b08fa016a712fc41852664cb37f88ab0f985d0bfdd695cbc590e559cbf606aea",
        "copied into OnceRequestValidationOperation with _content_type",
    ),
    "connexion.utils:extract_content_type": (
        "cf05b8c47077bb9b3b21acc64089324161bc22fb888f87d73e410bd2b75b776c",
        "connexion_extensions._content_type finds the same header",
    ),
    # currency_api.connexion_extensions.SkippingSwaggerUIMiddleware
    "connexion.middleware.swagger_ui:SwaggerUIMiddleware.__call__": (
        "63d1a07033fd923d3b8666bf22e1c2eaf4f1d93fd3ea02b90e97ed4768a92999",
        "skipped for paths none of its routes can match; must only route, then default",
    ),
    "connexion.middleware.swagger_ui:SwaggerUIMiddleware.default_fn": (
        "0159a88e2d16bcb839daeabe94823f7c4501cbe4b234ea942446fd5348addbc6",
        "the default must pass the request on unchanged (what the skip does)",
    ),
    # currency_api.logs.RecordingSecurityMiddleware
    "connexion.middleware.security:SecurityAPI.make_operation": (
        "8051a99c0921b5fdff454ad68be4a551018c5f1ac84b025b2f593202f0d1cb7e",
        "_RecordingSecurityAPI repeats it with RecordingSecurityOperation",
    ),
    # logs.RecordingSecurityOperation's bearer-first pass mirrors these
    "connexion.security:AbstractSecurityHandler.get_auth_header_value": (
        "f2808eab920f17d8925e7a7067b9ab21e92621bcf204bac66d8fbb3cc81b27f9",
        "the token is split from the header the same way",
    ),
    "connexion.security:AbstractSecurityHandler._generic_check": (
        "28e23fb07ef65fb6448d4913fa47610a3f226e9169eca242fe0c12ebbc1ccba2",
        "a None token info is a refusal (left to Connexion's check)",
    ),
    "connexion.security:BearerSecurityHandler._get_verify_func": (
        "2d831c150d65535a8ec431775965db8740b433a6df5c7ff72dc9473719855069",
        "only a bearer credential is handed to x-bearerInfoFunc",
    ),
    "connexion.security:SecurityHandlerFactory.verify_security": (
        "eb34fea712e0643a23d42a926397e9e4d2fbfb679b29047a78de116768d34d68",
        "the first alternative that succeeds wins; the same user and token_info in the context",
    ),
    "connexion.middleware.security:SecurityOperation.__call__": (
        "64eb38b0d5982445364e5c3987563e5b271a287baa3c0e37bd41320a5ce0c7b8",
        "wrapped: the route is recorded first, the subject after",
    ),
    # currency_api.connexion_extensions: OnceRequestValidationOperation
    "connexion.middleware.request_validation:RequestValidationOperation.__call__": (
        "af472716211911b942041310f56e3fef4c450a9010c1c1d4c1cab2d16b80e248",
        "copied with the URI parser and parameter validator built once",
    ),
    "connexion.middleware.request_validation:RequestValidationOperation.validate_mime_type": (
        "cdb95c7df215a7ddca872885d0d187d11f8168fb34da5bf941f96c3b3d735e49",
        "copied with the MediaTypeDict built once",
    ),
    "connexion.middleware.request_validation:RequestValidationAPI.make_operation": (
        "55b32cb8b0ab229eedb57e573397f76bcb9ad3d217206d1fa06afb766db89026",
        "OnceRequestValidationAPI repeats it with OnceRequestValidationOperation",
    ),
    # currency_api.metrics.RequestMetrics.record (aws-lambda-powertools 3.37.0)
    "aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch:"
    "AmazonCloudWatchEMFProvider.serialize_metric_set": (
        "f782dba999f71d33209e61405171bfe6875e0f1e7fe5379629fa1cc7ddc08496",
        "given the metric set add_metric would build ({name: {Unit, StorageResolution, Value}})",
    ),
    "aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch:"
    "AmazonCloudWatchEMFProvider.flush_metrics": (
        "53277bab6c91593a8a64f06d12f2f7ba1d881341ce5fced9caac15feb24dee46",
        "repeated after serialising: the disabled check, one compact JSON line, clear_metrics",
    ),
}


def _resolve(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target.fget if isinstance(target, property) else target


@pytest.mark.parametrize("path", sorted(PINNED))
def test_overridden_library_code_is_the_pinned_version(path: str) -> None:
    expected, reason = PINNED[path]
    source = inspect.getsource(_resolve(path))
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == expected, f"{path} changed upstream ({reason}): re-read the override"


def test_connexion_default_middlewares_are_the_ones_our_list_replaces() -> None:
    from connexion.middleware.main import ConnexionMiddleware

    from currency_api.connexion_extensions import OnceRequestValidationMiddleware, middlewares

    names = [m.__name__ for m in ConnexionMiddleware.default_middlewares]
    assert names == [
        "ServerErrorMiddleware",
        "ExceptionMiddleware",
        "SwaggerUIMiddleware",
        "RoutingMiddleware",
        "SecurityMiddleware",
        "RequestValidationMiddleware",
        "ResponseValidationMiddleware",
        "LifespanMiddleware",
        "ContextMiddleware",
    ]
    replaced = {
        "RequestValidationMiddleware": OnceRequestValidationMiddleware.__name__,
        "SwaggerUIMiddleware": "SkippingSwaggerUIMiddleware",
        "SecurityMiddleware": "RecordingSecurityMiddleware",
    }
    ours = [m.__name__ for m in middlewares(lifespan=True)]
    # Connexion's last resort is left out: currency_api.edge.Edge is (nothing escapes it).
    assert ours == [replaced.get(n, n) for n in names if n != "ServerErrorMiddleware"]
    assert "LifespanMiddleware" not in [m.__name__ for m in middlewares(lifespan=False)]
    lean = [m.__name__ for m in middlewares(lifespan=False, response_validation=False)]
    assert "LifespanMiddleware" not in lean
    assert "ResponseValidationMiddleware" not in lean
