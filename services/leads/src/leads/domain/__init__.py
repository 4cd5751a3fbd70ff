"""Pure business rules of the leads service: no FastAPI, no SQL, time passed in."""
