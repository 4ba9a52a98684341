"""`juned` command groups, one module each."""
