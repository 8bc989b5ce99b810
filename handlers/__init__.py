"""Operation handlers: the only Python that spec/openapi.yaml names by operationId."""
