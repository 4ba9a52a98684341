"""The June node daemon (`juned`): storage, chain, networking, forging, client API and auditor."""
