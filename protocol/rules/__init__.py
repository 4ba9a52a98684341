"""The consensus rules: local rules, global rules against a `StateView`, and the post-rule events.

Entry points: `validate_block` and `compute_block_delta` (protocol.rules.block), and the checks of
single pending documents (protocol.rules.pending).
"""
