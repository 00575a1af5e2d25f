"""Event handling at the edge: one module per trigger turns its event, read with Powertools' event
data classes (or pydantic models), into service calls, and shapes the answer the trigger expects.

Handlers call these through ``chorus.bootstrap``, which builds each one once per cold start.
"""
