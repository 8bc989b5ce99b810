"""Infrastructure tests: the synthesized template, the Lambda asset, spec-to-gateway mapping."""
