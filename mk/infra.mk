# Infrastructure: the CDK app in infra/ (see infra/README.md). Included by the top Makefile,
# which defines VENV and PY.
VENV ?= .venv
PY ?= $(VENV)/bin/python
CDK := node_modules/.bin/cdk
# The CDK CLI runs cdk.json's `python3 -m infra.app`: put the venv's python first on PATH.
CDK_ENV := PATH="$(abspath $(VENV))/bin:$$PATH" JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# Extra arguments for cdk, e.g. `make deploy CDK_ARGS="-c currency-api:stage=dev"`.
CDK_ARGS ?=

.PHONY: install-infra synth deploy bootstrap

# The top-level `install` puts the infra extra into .venv (the dev extra includes it).
install-infra: install $(CDK)

# package-lock.json pins the aws-cdk CLI; npm ci installs exactly that into node_modules/.
$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Offline: needs no AWS account or credentials (the region is pinned in cdk.json).
synth: install-infra
	$(CDK_ENV) AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet $(CDK_ARGS)
	@echo "Synthesized into cdk.out/ (template: cdk.out/*.template.json)"

# Needs AWS credentials for an account bootstrapped with `make bootstrap` (once per
# account and region). Prints the stack outputs and writes them to build/cdk-outputs.json.
deploy: install-infra aws-credentials
	$(CDK_ENV) $(CDK) deploy --all --outputs-file build/cdk-outputs.json $(CDK_ARGS)

bootstrap: install-infra aws-credentials
	$(CDK_ENV) $(CDK) bootstrap $(CDK_ARGS)

# Before CDK runs (it would synthesize, bundle, then fail on credentials): boto3 looks where
# the CDK CLI looks (environment, ~/.aws profiles and SSO, container and instance roles).
.PHONY: aws-credentials
aws-credentials: install
	@AWS_EC2_METADATA_DISABLED=$${AWS_EC2_METADATA_DISABLED:-true} $(PY) -c 'import boto3, sys; \
	  sys.exit(boto3.session.Session().get_credentials() is None)' || { \
	  echo "make $(MAKECMDGOALS): no AWS credentials found. Deploying needs:" >&2; \
	  echo "  1. credentials for the target account: AWS_PROFILE=<profile> (aws configure," >&2; \
	  echo "     or aws sso login --profile <profile>), or AWS_ACCESS_KEY_ID and" >&2; \
	  echo "     AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment;" >&2; \
	  echo "  2. that account and region bootstrapped once for CDK: make bootstrap;" >&2; \
	  echo "  3. then: make deploy (the region is pinned in cdk.json; see infra/README.md)." >&2; \
	  exit 1; }
