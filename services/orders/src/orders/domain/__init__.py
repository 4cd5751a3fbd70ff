"""Pure business rules of the orders service: no FastAPI, no SQL."""
