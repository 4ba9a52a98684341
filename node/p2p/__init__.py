"""The node's peer-to-peer layer on py-libp2p: host, sync protocol, and (later) gossip."""
