"""User-facing strings per feature area, merged into ui.i18n (one module per area keeps edits apart)."""

from ui.texts import auth, data_in, downloads, followup, forecast, maps, pack, rankings, systems, township

AREAS = (downloads, rankings, maps, data_in, systems, pack, auth, followup, forecast, township)
