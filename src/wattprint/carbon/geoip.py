"""Opt-in IP geolocation: which country the machine's public IP address is registered in.

One HTTPS GET, bounded by ``timeout_s`` (at most 1 s) in total, DNS included: the request runs
on a daemon thread and is abandoned, not waited for, when the time is up.

The default service is GeoJS (https://geojs.io/docs/v1/endpoints/geo/): free, no key, HTTPS,
the service CodeCarbon also uses. Its JSON has ``country_code`` (ISO alpha-2),
``country_code3`` (alpha-3) and ``latitude``/``longitude`` (strings, "for historic reasons").
Any other service with a JSON answer can be set with ``url``; the parser also reads the fields
of ipapi.co (``country_code_iso3``), ipinfo.io (``country``, ``loc`` = "lat,lon"),
ifconfig.co (``country_iso``) and ip-api.com (``countryCode``, ``lat``/``lon``).

An IP address says where the network exit is, not where the machine is (VPNs, proxies, cloud
NAT), which is why this comes after everything else and is labelled as such.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

from .._version import __version__

DEFAULT_URL = "https://get.geojs.io/v1/ip/geo.json"
MAX_TIMEOUT_S = 1.0
USER_AGENT = f"wattprint/{__version__}"


class GeoIPError(Exception):
    """The lookup gave no usable answer; the message says why (for the location's detail)."""


@dataclass(frozen=True)
class GeoIP:
    country: str  # ISO-3
    latitude: float | None
    longitude: float | None
    url: str


def _coordinate(value: Any, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def parse(data: Any, url: str = DEFAULT_URL) -> GeoIP:
    """Read a geolocation service's JSON object; GeoIPError if it names no known country."""
    from . import countries

    if not isinstance(data, dict):
        raise GeoIPError("the answer is not a JSON object")
    if data.get("error") or data.get("status") == "fail":
        reason = data.get("reason") or data.get("message") or "error"
        raise GeoIPError(f"the service answered with an error ({reason})")
    code = None
    for key in (
        "country_code3",
        "country_code_iso3",
        "country_code",
        "country_iso",
        "countryCode",
        "country",
    ):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            code = value.strip()
            break
    if code is None:
        raise GeoIPError("the answer has no country")
    found = countries.find(code)
    if found is None or found.iso3 == countries.WORLD:
        raise GeoIPError(f"the answer names an unknown country {code!r}")
    lat = _coordinate(data.get("latitude", data.get("lat")), 90.0)
    lon = _coordinate(data.get("longitude", data.get("lon")), 180.0)
    loc = data.get("loc")
    if (lat is None or lon is None) and isinstance(loc, str) and "," in loc:
        first, second = loc.split(",", 1)
        lat, lon = _coordinate(first, 90.0), _coordinate(second, 180.0)
    if lat is None or lon is None:
        lat = lon = None
    return GeoIP(found.iso3, lat, lon, url)


def lookup(url: str | None = None, timeout_s: float = MAX_TIMEOUT_S) -> GeoIP:
    """One GET to ``url`` (default GeoJS), ``timeout_s`` at most (capped at 1 s), all in.

    Raises GeoIPError with the reason on any failure: network, timeout, HTTP status, bad JSON,
    unknown country. Uses the environment's proxy settings (``HTTPS_PROXY``), as any client.
    """
    url = url or DEFAULT_URL
    if not url.lower().startswith(("https://", "http://")):
        raise GeoIPError(f"{url!r} is not an http(s) URL")
    timeout_s = min(max(timeout_s, 0.01), MAX_TIMEOUT_S)
    box: dict[str, Any] = {}

    def get() -> None:
        try:
            request = urllib.request.Request(
                url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
            )
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                box["body"] = response.read(65536)
        except Exception as exc:  # reported by the caller, never raised on this thread
            box["error"] = exc

    worker = threading.Thread(target=get, name="wattprint-geoip", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise GeoIPError(f"no answer from {url} within {timeout_s:g} s")
    if "error" in box:
        exc = box["error"]
        reason = getattr(exc, "reason", None) or exc
        raise GeoIPError(f"{url} failed: {reason}")
    try:
        data = json.loads(box["body"].decode("utf-8", "replace"))
    except ValueError:
        raise GeoIPError(f"{url} did not answer JSON") from None
    return parse(data, url)
