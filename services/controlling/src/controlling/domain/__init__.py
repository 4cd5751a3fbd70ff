"""Pure rules of the controlling read models: no FastAPI, no SQL, no broker.

- ``stats``: percentiles and rates as the API reports them.
- ``projections``: folding one aggregate's events into its current facts (order-independent).
- ``funnel``: stage counts, linked conversions, times between stages, win rate, pipeline.
- ``lead_controlling``: per rep and team figures.
- ``journey``: a journey's steps, stage timeline and causation-based handoff latencies.
- ``handoffs``: published / consumed / in flight / latency / lag of one handoff.
"""
