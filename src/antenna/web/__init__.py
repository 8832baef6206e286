"""Web shell: FastAPI app, login and API key, SSE, HTMX pages and the REST API."""
