"""Options every command shares, carried in click's context object: output form, nodes, account."""

from dataclasses import dataclass, field
from pathlib import Path

from protocol.keys import Keypair
from wallet.client import DEFAULT_NODE, NodeClient
from wallet.keystore import default_keyfile, read_keyfile
from wallet.secrets import read_secret


@dataclass
class WalletContext:
    json: bool = False
    nodes: list[str] = field(default_factory=lambda: [DEFAULT_NODE])
    use_scrypt: bool = False
    key_file: Path | None = None
    assume_yes: bool = False
    _keypair: Keypair | None = None
    _client: NodeClient | None = None

    def client(self) -> NodeClient:
        """The nodes to ask; with several, they are first checked to be on one head (a warning
        on standard error says which differ)."""
        if self._client is None:
            self._client = NodeClient(self.nodes)
            if len(self.nodes) > 1:
                self._client.check_agreement()
        return self._client

    def keypair(self) -> Keypair:
        """The account that signs: scrypt credentials or the key file, asked once per command."""
        if self._keypair is None:
            if self.use_scrypt:
                secret_identifier = read_secret("Secret identifier")
                self._keypair = Keypair.from_scrypt(secret_identifier, read_secret("Password"))
            else:
                self._keypair = read_keyfile(self.key_file or default_keyfile(), read_secret("Passphrase"))
        return self._keypair
