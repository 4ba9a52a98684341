"""The chain auditor: re-verifies a chain from genesis without taking any node's word.

`source` reads raw blocks (a chain file or a stopped node's data directory), `signatures` checks
every signature in worker processes, `replay` runs every rule on an in-memory state and gathers the
report, `report` renders it for people and machines. docs/audit.md explains the choices.
"""
