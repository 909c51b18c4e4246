"""System dashboards: one page for the 6+1 systems and the data platform.

?system=government&skpi=online_handling_rate&city=330100&county=330106 reproduces a view; the
layout and the drill are in ui/system_dash.py, the frames and figures in ui/system_model.py.
"""

from __future__ import annotations

from ui import system_dash
from ui.shell import ctx as get_ctx

system_dash.render(get_ctx())
