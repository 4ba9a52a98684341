"""The licence a member accepts when joining and when certifying, in June's own words, kept in
this one place: `june licence` prints it whole, `june wot certify` shows what a certifier promises.

It follows the substance of the Ğ1 licence (the rules of a libre currency's web of trust) without
its wording; it binds no one to June the software, only members to each other.
"""

import click

from wallet.context import WalletContext
from wallet.i18n import _
from wallet.options import json_option
from wallet.render import emit

#: What a member promises each time they certify someone (in the member's language, as help texts).
CERTIFYING = _("""\
When you certify someone, you state to every member that:
  1. you know this person well enough to reach them again, by a way that does not go through
     this currency (you would notice if the account stopped being theirs);
  2. you have checked with them, face to face or by a channel you trust, that the public key you
     certify is theirs (compare the whole key and its checksum, not only the pseudonym);
  3. to your knowledge they have one identity only in this web of trust, and have not certified
     an identity that would be a second one for somebody;
  4. they have made a revocation document, kept apart from their key, and know how to use it
     (june wot revocation create);
  5. they have accepted this licence.
Certifying without these checks weakens everyone's money: a web of trust is only as sound as the
least careful certification in it.""")

#: The whole licence.
LICENCE = _("""\
June licence: the commitments of a member of a libre currency

A libre currency is money that every member co-creates as equals: each member receives the same
share of new money, the universal dividend (UD), day after day, and the amount created follows the
money already in circulation so that no generation is favoured over another. One person must
therefore be one member, once: the web of trust makes sure of it, member by member.

Joining
  By publishing an identity and asking for membership you declare that it is your only identity
  in this currency, that you hold its key alone, and that you accept this licence. You become a
  member once enough members certify you and you are close enough to the rest of the web of
  trust; you stay one by renewing your membership before it ends and by keeping enough live
  certifications.

Certifying
{certifying}

Your key and your revocation
  Keep your secret key to yourself: nobody, no node and no June developer, will ever need it.
  Make a revocation document right after joining and keep it offline: if your key is lost or
  stolen, publishing it ends that identity for good, and you may then join again with a new one.

The money
  Payments are signed by the payer and written in the public chain: amounts, accounts and
  comments are public. Every rule (the UD, certifications and their expiry, memberships, who may
  write blocks) is the same for every member and is checked by every node; nobody can change
  them for themselves.

Nothing in this licence is a guarantee of value: the currency is worth what its members
exchange with it.
""").format(certifying=CERTIFYING)


@click.command(
    help=_("The licence a member accepts when joining and certifying."),
)
@json_option
@click.pass_obj
def licence(ctx: WalletContext) -> None:
    emit(ctx, {"licence": LICENCE}, LICENCE.rstrip("\n"))
