"""User-facing strings per feature area, merged into ui.i18n (one module per area keeps edits apart)."""

from ui.texts import auth, data_in, downloads, maps, pack, rankings, systems

AREAS = (downloads, rankings, maps, data_in, systems, pack, auth)
