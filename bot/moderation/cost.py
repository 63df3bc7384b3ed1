"""Cost units of a job, from its resolution and duration, for a server's daily budget.

Seedance is billed by video tokens, roughly width × height × frames / 1024, so a job's price grows with
its pixels × seconds. One unit is a 5 s video at 480p (864×480); the other sizes are Seedance's 16:9
outputs (720p 1248×704, 1080p 1920×1088), their pixel ratios rounded to whole units:

=========  ===  ====
           5 s  10 s
=========  ===  ====
480p         1     2
720p         2     4
1080p        5    10
=========  ===  ====
"""

from __future__ import annotations

from client.models import DURATIONS, RESOLUTIONS

BASE_DURATION_S = 5
UNITS_PER_5S: dict[str, int] = {"480p": 1, "720p": 2, "1080p": 5}


def cost_units(resolution: str, duration: int) -> int:
    """Units one job costs; raises ``ValueError`` for a resolution or duration the API does not offer."""
    if resolution not in RESOLUTIONS or duration not in DURATIONS:
        raise ValueError(f"no cost for {resolution} × {duration} s")
    return UNITS_PER_5S[resolution] * duration // BASE_DURATION_S
