"""Costs read side: the FIFO report, usage and valuation (API and supervisor page). The ops' side of costs
(layers, FIFO consumption, usage records) is server/ops/costs.py; the rules server/rules/costs.py."""
