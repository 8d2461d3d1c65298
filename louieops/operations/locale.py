"""Generate a system locale without reading /etc/locale.gen while planning.

pyinfra's ``server.locale`` reads /etc/locale.gen when the deploy is planned and raises if the locale is
not listed there, which fails every ``--dry`` plan of a bare server (the ``locales`` package, and with it
that file, is installed by the same deploy). This operation decides from the generated locales only.
"""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import OperationValueError, QuoteString, StringCommand, operation
from pyinfra.facts.server import Locales

LOCALE_GEN = "/etc/locale.gen"
_LOCALE = re.compile(r"[A-Za-z]{2,3}_[A-Z]{2}(\.[A-Za-z0-9-]+)?(@[a-z]+)?")


@operation()
def generated(locale: str):
    """
    Uncomment ``locale`` in /etc/locale.gen and run locale-gen, unless it is generated already.

    + locale: a locale name as /etc/locale.gen lists it, e.g. ``en_US.UTF-8``

    **Example:**

    .. code:: python

        locale.generated(name="Generate the en_US.UTF-8 locale", locale="en_US.UTF-8")
    """
    if not _LOCALE.fullmatch(locale):
        raise OperationValueError(f"invalid locale name {locale!r}")
    if locale in host.get_fact(Locales):
        host.noop(f"locale {locale} is generated")
        return
    escaped = re.escape(locale)
    # Uncomment "# en_US.UTF-8 UTF-8"; then fail with a clear grep error if the file does not list it.
    yield StringCommand("sed", "-i", QuoteString(rf"s/^#[[:space:]]*\({escaped}[[:space:]]\)/\1/"), LOCALE_GEN)
    yield StringCommand("grep", "-q", QuoteString(rf"^{escaped}[[:space:]]"), LOCALE_GEN)
    yield "locale-gen"
