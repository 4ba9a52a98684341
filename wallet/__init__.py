"""The `june` wallet: keys stay here; documents are built and signed locally, then sent to a node."""
