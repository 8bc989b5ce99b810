"""The three Lambda apps compared: ours, the FastAPI + Mangum peer and the bare floor."""
