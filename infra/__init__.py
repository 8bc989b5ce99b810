"""AWS CDK app that deploys the currency API: stack, constructs, spec-driven routes, bundling."""
