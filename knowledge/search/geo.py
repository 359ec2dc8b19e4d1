"""Distances on the Earth's surface, and the score a result has for nearness alone.

With a location, matched results are ordered by distance (`index.py`), not by a mix of
nearness and relevance: a mix put a 7.4 km result before a 5.2 km one.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
PROXIMITY_SCALE_M = 1500.0  # at this distance nearness counts half as much as "right here"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distances_m(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Metres from (lat, lon) to every point; NaN where a point has no coordinates."""
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lons - lon) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def proximity(distance_m: float) -> float:
    """1.0 here, 0.5 at `PROXIMITY_SCALE_M`, falling smoothly towards 0 further away."""
    return PROXIMITY_SCALE_M / (PROXIMITY_SCALE_M + max(0.0, distance_m))
