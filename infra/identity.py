"""CurrencyUserPool: the Cognito user pool that issues the API's access tokens.

No self sign-up (an administrator creates users), a strong password policy, TOTP MFA required,
a resource server whose scopes come from the spec's oauth2 scheme, a hosted domain for the
OAuth 2.0 endpoints, two app clients and the admin group:

- the web client is public (no secret) and uses the authorization code grant with PKCE
  (Cognito accepts ``code_challenge`` from any client and requires the verifier once a
  challenge was sent). It may ask only for the read scope: the app also honours a *user's*
  write scope, so offering it here would let every user write. Users write through the
  admin group instead (see infra/README.md).
- the service client is confidential (it has a secret) and uses the client credentials grant
  with the read and write scopes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.nag import acknowledge


class CurrencyUserPool(Construct):
    """User pool, resource server, domain, web and service clients, admin group.

    Args:
        resource_server_id: the scopes' prefix, e.g. ``currencies`` for ``currencies/read``.
        scopes: scope name -> description, e.g. ``{"read": "Read currencies"}``.
        read_scope: the scope name the web client may request.
        admin_group: the group whose users may write.
        domain_prefix: the hosted domain's prefix (unique within the region).
        callback_urls, logout_urls: the web client's redirect URLs (HTTPS, or http://localhost).
        retain: production settings: deletion protection on and RETAIN on stack deletion.
        plus_plan: the Plus feature plan with threat protection enforced (priced per user).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_server_id: str,
        scopes: Mapping[str, str],
        read_scope: str,
        admin_group: str,
        domain_prefix: str,
        callback_urls: Sequence[str],
        logout_urls: Sequence[str],
        retain: bool = True,
        plus_plan: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if plus_plan else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus_plan else None
            ),
            deletion_protection=retain,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        if not plus_plan:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                reason=(
                    "Threat protection needs the Plus feature plan, priced per monthly active "
                    "user; users here are a few administrators created by hand, with MFA "
                    "required. The plus_plan knob turns it on."
                ),
            )
        server_scopes = {
            name: cognito.ResourceServerScope(scope_name=name, scope_description=description)
            for name, description in scopes.items()
        }
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer",
            identifier=resource_server_id,
            user_pool_resource_server_name=resource_server_id,
            scopes=list(server_scopes.values()),
        )

        def oauth_scope(name: str) -> cognito.OAuthScope:
            return cognito.OAuthScope.resource_server(self.resource_server, server_scopes[name])

        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )
        self.web_client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name="web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    cognito.OAuthScope.PROFILE,
                    oauth_scope(read_scope),
                ],
                callback_urls=list(callback_urls),
                logout_urls=list(logout_urls),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        self.service_client = self.user_pool.add_client(
            "ServiceClient",
            user_pool_client_name="service",
            generate_secret=True,
            auth_flows=cognito.AuthFlow(),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[oauth_scope(name) for name in scopes],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
        )
        self.admin_group = self.user_pool.add_group(
            "AdminGroup",
            group_name=admin_group,
            description="Users in this group may create, replace, change and delete currencies.",
        )

    @property
    def client_ids(self) -> list[str]:
        """The app clients' ids: the JWT authorizer's audience and the app's allow-list."""
        return [self.web_client.user_pool_client_id, self.service_client.user_pool_client_id]

    @property
    def issuer(self) -> str:
        """The tokens' ``iss``: ``https://cognito-idp.{region}.amazonaws.com/{pool id}``.

        Source: Cognito developer guide, "Verifying a JSON Web Token".
        """
        stack = Stack.of(self)
        return (
            f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.user_pool.user_pool_id}"
        )

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint of the hosted domain."""
        return f"{self.domain.base_url()}/oauth2/token"

    @property
    def authorize_url(self) -> str:
        """The OAuth 2.0 authorization endpoint of the hosted domain."""
        return f"{self.domain.base_url()}/oauth2/authorize"
