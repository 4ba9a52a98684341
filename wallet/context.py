"""Options every command shares, carried in click's context object: output form, nodes, account.

The account is named once, by the global options (`--key-file`, `--scrypt`, `--scrypt-params`),
and every command honours them. Reading needs only the public key: June key files, PubSec, WIF
and seed files show it without a passphrase (EWIF and DEWIF must be opened: `wallet/keystore.py`),
so `balance`, `history` and `wot status` never ask for it; signing asks for it once per command.
"""

from dataclasses import dataclass, field
from pathlib import Path

from protocol.crypto import PublicKey
from protocol.keys import Keypair, ScryptParams
from wallet.client import DEFAULT_NODE, NodeClient
from wallet.i18n import _
from wallet.keystore import default_keyfile, public_key_in, read_any_keyfile
from wallet.secrets import read_secret


@dataclass
class WalletContext:
    json: bool = False
    nodes: list[str] = field(default_factory=lambda: [DEFAULT_NODE])
    use_scrypt: bool = False
    scrypt_params: ScryptParams | None = None
    key_file: Path | None = None
    assume_yes: bool = False
    full_pubkey: bool = False
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

    @property
    def keyfile_path(self) -> Path:
        return self.key_file or default_keyfile()

    def keypair(self) -> Keypair:
        """The account that signs: scrypt credentials or the key file, asked once per command."""
        if self._keypair is None:
            if self.use_scrypt:
                secret_identifier = read_secret(_("Secret identifier"))
                password = read_secret(_("Password"))
                self._keypair = Keypair.from_scrypt(secret_identifier, password, self.scrypt_params)
            else:
                self._keypair = read_any_keyfile(self.keyfile_path, lambda: read_secret(_("Passphrase")))
        return self._keypair

    def public_key(self) -> PublicKey:
        """The account's public key, for reading: from the key file without its passphrase;
        scrypt credentials have to be asked."""
        if self._keypair is not None or self.use_scrypt:
            return self.keypair().public_key
        found = public_key_in(self.keyfile_path)
        return found if found is not None else self.keypair().public_key
