"""Pure business rules of after-sales: no FastAPI, no SQL, time always passed in."""
