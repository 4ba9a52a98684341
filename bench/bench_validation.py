"""Documents validated per second, against raw Ed25519 verifications per second on one core.

Validation should be signature-bound: the rules around each signature should cost little next to
the signature itself, so the ratio should stay close to 1 for single-signature documents.
"""

import time

from _chain import BenchChain
from _common import best_of, raw_verifications_per_second

from protocol.rules.block import validate_block
from protocol.rules.pending import check_pending


def main() -> None:
    raw = raw_verifications_per_second()
    print(f"raw Ed25519 verifications, one core: {raw:,.0f}/s")
    chain = BenchChain(members=400)
    chain.advance_to_dividend()
    payments = [chain.payment(i, (i + 1) % 400) for i in range(400)]

    def pending() -> None:
        for tx in payments:
            check_pending(chain.state, tx)

    rate = len(payments) / best_of(3, pending)
    print(f"pending transactions checked:        {rate:,.0f}/s  = {rate / raw:.0%} of raw verification")

    certs = []
    for i in range(400):
        receiver = chain.keys[(i + 10) % 400].public_key
        identity = chain.state.identity(receiver)
        assert identity is not None
        from protocol.documents import Certification

        certs.append(
            Certification.create(
                chain.keys[i], chain.blocks[0].currency, receiver, identity.hash, chain.ref()
            )
        )
    head = chain.state.head()
    assert head is not None
    chain.apply(chain.forge([], head.median_time + 120))  # the genesis certification period is over

    def pending_certs() -> None:
        for cert in certs:
            check_pending(chain.state, cert)

    rate = len(certs) / best_of(3, pending_certs)
    print(f"pending certifications checked:      {rate:,.0f}/s  = {rate / raw:.0%} of raw verification")

    head = chain.state.head()
    assert head is not None
    block = chain.forge(payments, head.median_time + 10)
    start = time.perf_counter()
    validate_block(chain.state, block)
    elapsed = time.perf_counter() - start
    signatures = len(block.transactions) + 1
    print(
        f"block of {len(block.transactions)} transactions validated in {elapsed * 1000:.1f} ms: "
        f"{signatures / elapsed:,.0f} signatures/s = {signatures / elapsed / raw:.0%} of raw verification"
    )
    start = time.perf_counter()
    validate_block(chain.state, block, signatures=False)
    rules_only = time.perf_counter() - start
    print(f"   the same without signature checks: {rules_only * 1000:.1f} ms (rules and state work alone)")


if __name__ == "__main__":
    main()
