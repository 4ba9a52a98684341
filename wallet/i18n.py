"""The wallet's language: French when the locale says so (LANGUAGE, LC_ALL, LC_MESSAGES or LANG,
the first one set, as gettext reads them), English otherwise.

English is the source language: every user-facing string is written in English inside `_()` and
the French catalogue `locale/fr/LC_MESSAGES/june.po` (compiled to `june.mo`, both committed; `make
catalogues` extracts, updates and compiles them) translates it. The catalogue is chosen once, when
this module is imported, because click reads help texts when the commands are defined.
"""

import gettext
from pathlib import Path

DOMAIN = "june"
LOCALE_DIR = Path(__file__).parent / "locale"

_catalogue = gettext.translation(DOMAIN, LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    """`message` in the member's language (itself when there is no translation)."""
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` that fits `count`, in the member's language."""
    return _catalogue.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it here (translated where it is used)."""
    return message


def install_for_click() -> None:
    """Let click's own words (Usage:, Options:, its errors) come from June's catalogue too: click
    asks gettext's default domain, so June's domain becomes the default. Called by `june`'s entry
    point only, so that importing the wallet changes nothing for other programs."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction (`Nn_:1,2`), as `N_` does for one string."""
    return singular, plural


#: Click's own strings that a member sees (help headings, usage errors), so that extraction puts
#: them in June's catalogue; click translates them itself once `install_for_click` ran.
CLICK_STRINGS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such option {name!r}."),
    N_("Option {name!r} does not take a value."),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{name} {filename!r} does not exist."),
    N_("default: {default}"),
    N_("env var: {var}"),
)
CLICK_PLURALS = (
    Nn_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    Nn_("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    Nn_("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
)
