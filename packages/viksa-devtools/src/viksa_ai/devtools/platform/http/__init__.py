"""The platform's HTTP edge: the FastAPI app, its routes, dependencies and middleware."""
