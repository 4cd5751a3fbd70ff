"""Pure business rules of the pipeline: no FastAPI, no SQL, no clock of their own."""
