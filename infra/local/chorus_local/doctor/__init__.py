"""``chorus doctor --stack NAME``: a read-only preflight of a deployed stack.

Each check reads (Describe/Get/List/Query, never a write) and reports PASS, WARN or FAIL with
one line on what is wrong and the exact fix (``findings``). ``run.run_doctor`` takes injected
boto3 clients, so tests run it on moto; ``render`` prints a table or JSON.
"""
