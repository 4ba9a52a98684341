"""The client API: HTTP JSON served by the node for wallets and tools (see docs/api.md)."""
