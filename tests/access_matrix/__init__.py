"""The access matrix: every route of the URL map × every kind of actor, checked against a table.

`actors.py` says who the actors are and how each one is made, `world.py` creates the objects the
routes are asked about, `table.py` is the expectation table (one row per endpoint) and
`runner.py` sends the requests and compares the outcomes. The test is `tests/test_access_matrix.py`.
"""
