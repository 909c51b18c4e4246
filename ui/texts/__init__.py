"""User-facing strings per feature area, registered into the one text mechanism (`i18n`) on import.

One module per area keeps edits apart; the pack's strings live with the pack (pack/texts.py).
"""

from i18n import register
from ui.texts import (
    ask,
    auth,
    data_in,
    downloads,
    followup,
    forecast,
    maps,
    phone,
    rankings,
    systems,
    tokens,
    township,
    words,
)

AREAS = (downloads, rankings, maps, data_in, systems, auth, followup, forecast, township, ask, tokens, phone, words)

for _area in AREAS:
    register(_area.__name__, _area.ZH, _area.EN)
