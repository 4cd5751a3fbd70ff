"""Pure rules of fulfilment: no FastAPI, no SQL.

- ``planning``: a confirmed order becomes shipments and implementation tasks.
- ``shipment``: the shipment state machine, folded from status reports in the order they happened.
- ``progress``: status, due dates, completion and cancellation of a whole fulfilment.
"""
