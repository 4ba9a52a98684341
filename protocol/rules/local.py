"""Local rules: what a block must satisfy on its own, before any state is read (rules.md §7.1).

Checks run cheapest first; signatures, the dearest, run last and can be left to a caller that
verifies them in bulk (the auditor does, over all cores). Codes are Duniter's local rule names.
"""

from collections import Counter

from protocol.amounts import ConservationError, check_conservation
from protocol.conditions import Condition, Operation, Sig, Xhx, parse_condition
from protocol.documents import Block, MembershipType, SigProof, Transaction, TransactionSource
from protocol.documents.transaction import MAX_LINES
from protocol.errors import RuleViolation
from protocol.keys import pubkey_display
from protocol.params import BLOCK_MAX_TX_CHAINING_DEPTH

#: Longest unlock (its proofs written as text, space-separated), as for an output condition.
MAX_UNLOCK_LENGTH = 2000


def check_block_local(block: Block, *, signatures: bool = True, proof_of_work: bool = True) -> None:
    """Every local rule; `signatures=False` skips the signature checks (verified elsewhere), and
    `proof_of_work=False` the hash prefix (for a block not proven yet)."""
    check_structure(block)
    if proof_of_work:
        check_proof_of_work_prefix(block)
    check_identities(block)
    check_memberships(block)
    check_certifications(block)
    for tx in block.transactions:
        check_transaction_local(tx)
    check_block_transactions(block)
    if signatures:
        check_block_signatures(block)


def check_structure(block: Block) -> None:
    """Parameters, previous hash and issuer, unit base and dividend at block 0 (rules.md §7.1)."""
    genesis = block.number == 0
    # Verify parameters are present in block 0 only.
    if genesis != (block.parameters is not None):
        raise RuleViolation("checkParameters", "parameters must be present in block 0 and only there")
    # Verify previous hash and issuer are absent in block 0 only.
    if genesis != (block.previous_hash is None):
        raise RuleViolation("checkPreviousHash", "previous hash must be absent in block 0 and only there")
    if genesis != (block.previous_issuer is None):
        raise RuleViolation("checkPreviousIssuer", "previous issuer must be absent in block 0 and only there")
    # Verify block 0 starts at unit base 0 and creates no dividend.
    if genesis and block.unit_base != 0:
        raise RuleViolation("checkUnitBase", f"block 0 has unit base {block.unit_base}, expected 0")
    if genesis and block.dividend is not None:
        raise RuleViolation("checkDividend", "block 0 creates no Universal Dividend")


def check_proof_of_work_prefix(block: Block) -> None:
    """The hash shows floor(powMin/16) leading zero hex digits (rules.md §6.5, local part)."""
    zeros = block.pow_min // 16
    if not block.hash.hex().startswith("0" * zeros):
        raise RuleViolation(
            "checkProofOfWork", f"hash must start with {zeros} zeros for powMin {block.pow_min}"
        )


def check_identities(block: Block) -> None:
    """Identities: unique uid and key in the block, each with its joiner (rules.md §7.1)."""
    if not block.identities:  # most blocks: nothing to count
        return
    uids = Counter(i.uid for i in block.identities)
    keys = Counter(i.issuer for i in block.identities)
    # Verify no uid or key appears twice.
    for uid, count in uids.items():
        if count > 1:
            raise RuleViolation("checkIdentitiesUserIDConflict", f"uid {uid!r} is written {count} times")
    for key, count in keys.items():
        if count > 1:
            raise RuleViolation(
                "checkIdentitiesPubkeyConflict", f"{pubkey_display(key)} has {count} identities"
            )
    # Verify each identity is matched by a joiner of the same key and uid.
    joiners = {(m.issuer, m.uid) for m in block.joiners}
    for identity in block.identities:
        if (identity.issuer, identity.uid) not in joiners:
            raise RuleViolation(
                "checkIdentitiesMatchJoin", f"identity {identity.uid!r} has no joiner in the block"
            )


def check_memberships(block: Block) -> None:
    """Membership types, one row per key, revocations unique and excluded (rules.md §7.1)."""
    if not (block.joiners or block.actives or block.leavers or block.excluded or block.revocations):
        return  # most blocks: nothing to count
    # Verify joiners and actives are IN memberships and leavers OUT ones.
    for name, documents, expected in (
        ("joiner", block.joiners, MembershipType.IN),
        ("active", block.actives, MembershipType.IN),
        ("leaver", block.leavers, MembershipType.OUT),
    ):
        for membership in documents:
            if membership.type is not expected:
                raise RuleViolation(
                    "checkMembershipType",
                    f"{name} {membership.uid!r} is {membership.type}, expected {expected}",
                )
    # Verify a key has at most one membership row, and appears once across memberships and exclusions.
    rows = Counter(m.issuer for m in (*block.joiners, *block.actives, *block.leavers))
    for key, count in rows.items():
        if count > 1:
            raise RuleViolation(
                "checkMembershipUnicity", f"{pubkey_display(key)} has {count} membership rows"
            )
    excluded = Counter(block.excluded)
    for key in excluded:
        if excluded[key] > 1 or key in rows:
            raise RuleViolation(
                "checkPubkeyUnicity", f"{pubkey_display(key)} is excluded twice or also renewing"
            )
    # Verify each key is revoked at most once, and every revoked key is also excluded.
    revoked = Counter(r.issuer for r in block.revocations)
    for key, count in revoked.items():
        if count > 1:
            raise RuleViolation("checkRevokedUnicity", f"{pubkey_display(key)} is revoked {count} times")
        if key not in excluded:
            raise RuleViolation("checkRevokedAreExcluded", f"revoked {pubkey_display(key)} is not excluded")


def check_certifications(block: Block) -> None:
    """One per issuer (but in block 0), no duplicate, none to oneself, a leaver or an excluded key."""
    if not block.certifications:  # most blocks: nothing to count
        return
    pairs = Counter((c.issuer, c.receiver) for c in block.certifications)
    # Verify no certification is written twice.
    for (issuer, receiver), count in pairs.items():
        if count > 1:
            raise RuleViolation(
                "checkCertificationUnicity",
                f"{pubkey_display(issuer)} certifies {pubkey_display(receiver)} {count} times",
            )
        # Verify nobody certifies themselves.
        if issuer == receiver:
            raise RuleViolation("checkCertificationIsntSelf", f"{pubkey_display(issuer)} certifies itself")
    # Verify one certification per issuer, except in block 0.
    if block.number > 0:
        for issuer, count in Counter(c.issuer for c in block.certifications).items():
            if count > 1:
                raise RuleViolation(
                    "checkCertificationOneByIssuer", f"{pubkey_display(issuer)} issues {count} certifications"
                )
    # Verify no certification targets a key leaving or excluded in this block.
    gone = {m.issuer for m in block.leavers} | set(block.excluded)
    for cert in block.certifications:
        if cert.receiver in gone:
            raise RuleViolation(
                "checkCertificationIsntForLeaverOrExcluded",
                f"{pubkey_display(cert.receiver)} leaves or is excluded in this block",
            )


def check_transaction_local(tx: Transaction) -> None:
    """One transaction on its own: size, issuers, sources, recipients, amounts (rules.md §7.1, §8.2)."""
    # Verify the compact form has at most 100 lines.
    lines = tx.compact_line_count()
    if lines > MAX_LINES:
        raise RuleViolation("checkTxLength", f"transaction has {lines} lines, at most {MAX_LINES}")
    # Verify there is an issuer, no issuer twice, and every SIG proof names an issuer.
    if not tx.issuers:
        raise RuleViolation("checkTxIssuers", "transaction has no issuer")
    if len(set(tx.issuers)) != len(tx.issuers):
        raise RuleViolation("checkTxIssuers", "an issuer appears twice")
    # Verify there is an input, one unlock per input, no source twice.
    if not tx.inputs:
        raise RuleViolation("checkTxSources", "transaction has no input")
    if len(tx.unlocks) != len(tx.inputs):
        raise RuleViolation("checkTxSources", f"{len(tx.inputs)} inputs but {len(tx.unlocks)} unlocks")
    if len({i.source for i in tx.inputs}) != len(tx.inputs):
        raise RuleViolation("checkTxSources", "a source is spent twice in the transaction")
    for index, proofs in enumerate(tx.unlocks):
        if not proofs:
            raise RuleViolation("checkTxSources", f"input {index} has no unlock proof")
        if len(" ".join(str(p) for p in proofs)) > MAX_UNLOCK_LENGTH:
            raise RuleViolation(
                "checkTxLength", f"unlock {index} is longer than {MAX_UNLOCK_LENGTH} characters"
            )
        for proof in proofs:
            if isinstance(proof, SigProof) and proof.issuer_index >= len(tx.issuers):
                raise RuleViolation(
                    "checkTxIssuers", f"unlock {index} names issuer {proof.issuer_index} of {len(tx.issuers)}"
                )
    # Verify there is an output, and every output is locked by at least one SIG or XHX.
    if not tx.outputs:
        raise RuleViolation("checkTxRecipients", "transaction has no output")
    for index, output in enumerate(tx.outputs):
        if not _has_owner(parse_condition(output.condition)):
            raise RuleViolation("checkTxRecipients", f"output {index} is locked by no SIG nor XHX")
    # Verify the amounts balance, moving value only from lower bases to higher ones.
    try:
        check_conservation([(i.amount, i.base) for i in tx.inputs], [(o.amount, o.base) for o in tx.outputs])
    except ConservationError as exc:
        raise RuleViolation("checkTxAmounts", str(exc)) from exc


def check_block_transactions(block: Block) -> None:
    """No source spent or created twice in the block; chaining depth at most 5 (rules.md §8.2)."""
    created_by: dict[bytes, int] = {}
    depth: list[int] = []
    spent: set[object] = set()
    for position, tx in enumerate(block.transactions):
        tx_hash = tx.hash
        # Verify no transaction (hence no source) is written twice.
        if tx_hash in created_by:
            raise RuleViolation("checkTxSources", f"transaction {position} is written twice")
        own_depth = 0
        for tx_input in tx.inputs:
            # Verify no source is spent twice in the block.
            if tx_input.source in spent:
                raise RuleViolation("checkTxSources", f"transaction {position} spends a source already spent")
            spent.add(tx_input.source)
            source = tx_input.source
            if isinstance(source, TransactionSource) and source.tx_hash in created_by:
                own_depth = max(own_depth, depth[created_by[source.tx_hash]] + 1)
        # Verify the chain of transactions spending each other in the block is at most 5 deep.
        if own_depth > BLOCK_MAX_TX_CHAINING_DEPTH:
            raise RuleViolation(
                "checkMaxTransactionChainingDepth",
                f"transaction {position} has chaining depth {own_depth}, "
                f"at most {BLOCK_MAX_TX_CHAINING_DEPTH}",
            )
        created_by[tx_hash] = position
        depth.append(own_depth)


def check_block_signatures(block: Block) -> None:
    """The block's and every document's signatures (no exceptions in June)."""
    # Verify the issuer signed the block.
    if not block.is_signature_valid():
        raise RuleViolation("checkBlockSignature", "the block's signature does not verify")
    for identity in block.identities:
        if not identity.is_signature_valid():
            raise RuleViolation("checkIdentitiesSignature", f"identity {identity.uid!r}: bad signature")
    for membership in (*block.joiners, *block.actives, *block.leavers):
        if not membership.is_signature_valid():
            raise RuleViolation(
                "checkMembershipsSignature", f"membership of {membership.uid!r}: bad signature"
            )
    for revocation in block.revocations:
        if not revocation.is_signature_valid():
            raise RuleViolation(
                "checkRevocationsSignature",
                f"revocation of {pubkey_display(revocation.issuer)}: bad signature",
            )
    for cert in block.certifications:
        if not cert.is_signature_valid():
            raise RuleViolation(
                "checkCertificationsSignature",
                f"certification {pubkey_display(cert.issuer)} → {pubkey_display(cert.receiver)}: "
                "bad signature",
            )
    for position, tx in enumerate(block.transactions):
        if not tx.is_signature_valid():
            raise RuleViolation("checkTxSignature", f"transaction {position}: a signature does not verify")


def _has_owner(condition: Condition) -> bool:
    if isinstance(condition, Sig | Xhx):
        return True
    if isinstance(condition, Operation):
        return _has_owner(condition.left) or _has_owner(condition.right)
    return False
