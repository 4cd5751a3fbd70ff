"""Pure business rules of the offers service: no FastAPI, no SQL."""
