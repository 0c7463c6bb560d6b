"""Where the code runs: explicit settings > cloud > site file > timezone > IP > world.

No test touches the network: the instance metadata services and the geolocation service are
played by an ``http.server`` on 127.0.0.1, and every environment is a dict handed to locate().
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wattprint.carbon import cloud, geoip, site
from wattprint.carbon.location import (
    CLOUD_ENV,
    CLOUD_METADATA,
    EXPLICIT,
    IP,
    SITE,
    TIMEZONE,
    WORLD,
    Location,
    describe_assumption,
    locate,
)

# -- helpers -------------------------------------------------------------------------------------


def machine_env(machine: Any, **variables: str) -> dict[str, str]:
    """A clean environment for the fake machine, plus ``variables``."""
    return {"WATTPRINT_ROOT": str(machine.root), **variables}


class FakeServer:
    """A local HTTP server; ``respond(handler)`` decides each answer; requests are recorded."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                outer.requests.append((self.command, self.path, dict(self.headers)))
                try:
                    respond(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first: that is the point of some tests

            do_GET = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


Serve = Callable[..., FakeServer]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers: list[FakeServer] = []

    def start(respond: Callable[[BaseHTTPRequestHandler], None]) -> FakeServer:
        server = FakeServer(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: str | bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    data = body.encode() if isinstance(body, str) else body
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: refused at once


def all_at(url: str) -> dict[str, str]:
    return {"aws": url, "gcp": url, "azure": url}


# -- 1. explicit settings ------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["FRA", "FR", "France", "france", " fra "])
def test_explicit_country_any_form(machine: Any, given: str) -> None:
    where = locate(country=given, env=machine_env(machine))
    assert (where.country, where.source) == ("FRA", EXPLICIT)
    assert where.country_name == "France"


@pytest.mark.parametrize(
    ("country", "region", "zone", "iso3"),
    [
        ("USA", "california", "US-STATE-CA", "USA"),
        ("US", "CA", "US-STATE-CA", "USA"),
        ("United States", "Texas", "US-STATE-TX", "USA"),
        ("USA", "new york", "US-STATE-NY", "USA"),
        ("CAN", "QC", "CA-QC", "CAN"),
        ("Canada", "ontario", "CA-ON", "CAN"),
        ("CA", "Québec", "CA-QC", "CAN"),  # CA as a country is Canada, and accents fold
        (None, "ontario", "CA-ON", "CAN"),  # a full name is unambiguous without a country
        (None, "CA-ON", "CA-ON", "CAN"),  # a zone key works as a region too
        (None, "california", "US-STATE-CA", "USA"),
    ],
)
def test_explicit_region_resolves_to_zone(
    machine: Any, country: str | None, region: str, zone: str, iso3: str
) -> None:
    where = locate(country=country, region=region, env=machine_env(machine))
    assert (where.country, where.zone, where.source) == (iso3, zone, EXPLICIT)
    assert where.region == region.strip()
    assert zone in (where.detail or "")


def test_explicit_zone_key_gives_its_country(machine: Any) -> None:
    where = locate(zone="us-cal-ciso", env=machine_env(machine))
    assert (where.zone, where.country, where.source) == ("US-CAL-CISO", "USA", EXPLICIT)
    assert locate(zone="AU-NSW", env=machine_env(machine)).country == "AUS"


@pytest.mark.parametrize(
    ("provider", "region", "canonical", "iso3"),
    [
        ("AWS", "eu-west-3", ("aws", "eu-west-3"), "FRA"),
        ("amazon", "EU-WEST-3", ("aws", "eu-west-3"), "FRA"),
        ("Google", "europe-west1", ("gcp", "europe-west1"), "BEL"),
        ("azure", "westeurope", ("azure", "westeurope"), "NLD"),
    ],
)
def test_explicit_cloud_region(
    machine: Any, provider: str, region: str, canonical: tuple[str, str], iso3: str
) -> None:
    where = locate(cloud_provider=provider, cloud_region=region, env=machine_env(machine))
    assert (where.cloud_provider, where.cloud_region) == canonical
    assert (where.country, where.source) == (iso3, EXPLICIT)
    assert where.zone is not None
    assert where.latitude is not None and where.longitude is not None  # the region's city


def test_explicit_coordinates_near_paris_are_france(machine: Any) -> None:
    where = locate(latitude=48.85, longitude=2.35, env=machine_env(machine))
    assert (where.country, where.zone, where.source) == ("FRA", "FR", EXPLICIT)
    assert (where.latitude, where.longitude) == (48.85, 2.35)
    assert "approximate" in (where.detail or "")


def test_explicit_coordinates_stay_within_the_given_country(machine: Any) -> None:
    # Sydney, with the country said: the nearest zone is looked for in Australia only.
    where = locate(country="AUS", latitude=-33.87, longitude=151.21, env=machine_env(machine))
    assert (where.country, where.zone) == ("AUS", "AU-NSW")


def test_most_specific_setting_wins(machine: Any) -> None:
    env = machine_env(machine)
    where = locate(country="USA", region="california", zone="US-CAL-CISO", env=env)
    assert where.zone == "US-CAL-CISO"
    assert where.region == "california"
    # A zone beats the zone of a cloud region in the same country; the cloud facts are kept.
    where = locate(zone="FR", cloud_provider="aws", cloud_region="eu-west-3", env=env)
    assert (where.zone, where.cloud_provider, where.cloud_region) == ("FR", "aws", "eu-west-3")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"country": "Frnace"}, ["'Frnace'", "France", "ISO"]),
        ({"country": "USA", "region": "californa"}, ["'californa'", "California"]),
        ({"country": "FRA", "region": "bavaria"}, ["'bavaria'", "FRA"]),
        ({"region": "CA"}, ["ambiguous", "California", "CAN", "country"]),
        ({"region": "WA"}, ["ambiguous", "Washington", "Western Australia"]),
        ({"region": "atlantis"}, ["'atlantis'", "zone"]),
        ({"zone": "FR-XX"}, ["'FR-XX'", "zone", "US-CAL-CISO"]),
        (
            {"cloud_provider": "aws", "cloud_region": "eu-west-9"},
            ["'eu-west-9'", "aws", "eu-west-3"],
        ),
        ({"cloud_provider": "ibm", "cloud_region": "us-south"}, ["'ibm'", "aws", "gcp", "azure"]),
        ({"cloud_region": "atlantis-1"}, ["'atlantis-1'", "cloud_provider"]),
        ({"latitude": 48.8}, ["latitude and longitude"]),
        ({"latitude": 100, "longitude": 2}, ["latitude", "100", "90"]),
        ({"latitude": "north", "longitude": 2}, ["'north'", "not a number"]),
    ],
)
def test_bad_explicit_values_raise_with_what_is_allowed(
    machine: Any, kwargs: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ValueError) as caught:
        locate(**kwargs, env=machine_env(machine))
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"country": "FRA", "zone": "DE"},
        {"country": "DEU", "cloud_provider": "aws", "cloud_region": "eu-west-3"},
        {"zone": "US-CAL-CISO", "cloud_provider": "gcp", "cloud_region": "europe-west1"},
        {"country": "USA", "region": "CA-ON"},
    ],
)
def test_contradictions_raise(machine: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"contradict|not in country"):
        locate(**kwargs, env=machine_env(machine))


# -- 2. cloud detection from the environment -----------------------------------------------------

CLOUD_ENVS = [
    # (environment, provider, region, ISO-3)
    ({"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
      "AWS_REGION": "eu-west-3"}, "aws", "eu-west-3", "FRA"),
    ({"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc",
      "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_REGION": "us-east-1"},
     "aws", "us-east-1", "USA"),
    ({"TRAINING_JOB_ARN": "arn:aws:sagemaker:eu-central-1:123456789012:training-job/bert",
      "SM_CURRENT_HOST": "algo-1", "TRAINING_JOB_NAME": "bert"}, "aws", "eu-central-1", "DEU"),
    ({"AWS_BATCH_JOB_ID": "a1b2", "AWS_DEFAULT_REGION": "eu-west-1"}, "aws", "eu-west-1", "IRL"),
    ({"CLOUD_ML_JOB_ID": "42", "CLOUD_ML_REGION": "europe-west4"}, "gcp", "europe-west4", "NLD"),
    ({"FUNCTION_NAME": "fn", "FUNCTION_REGION": "europe-west1"}, "gcp", "europe-west1", "BEL"),
    ({"WEBSITE_SITE_NAME": "app", "WEBSITE_INSTANCE_ID": "abc", "REGION_NAME": "West Europe"},
     "azure", "westeurope", "NLD"),
    ({"AZUREML_RUN_ID": "run-1", "AZUREML_SERVICE_ENDPOINT": "https://eastus.api.azureml.ms"},
     "azure", "eastus", "USA"),
]  # fmt: skip


@pytest.mark.parametrize(("variables", "provider", "region", "iso3"), CLOUD_ENVS)
def test_cloud_runtime_environment(
    machine: Any, variables: dict[str, str], provider: str, region: str, iso3: str
) -> None:
    where = locate(env=machine_env(machine, **variables))
    assert (where.cloud_provider, where.cloud_region) == (provider, region)
    assert (where.country, where.source) == (iso3, CLOUD_ENV)
    marker = next(iter(variables))
    assert marker in (where.detail or "")


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": "dev"},  # a laptop with the AWS CLI
        {"AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKIA..."},
        {"CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "p"},  # a Vertex client
        {"GOOGLE_CLOUD_REGION": "europe-west1", "GOOGLE_CLOUD_PROJECT": "p"},
        {"K_SERVICE": "svc", "KUBERNETES_SERVICE_HOST": "10.0.0.1"},  # Knative on any cluster
        {"SM_FRAMEWORK": "tf.keras"},  # segmentation_models' setting, not SageMaker
        {"REGION_NAME": "West Europe"},  # no App Service marker
    ],
)
def test_client_settings_are_not_a_cloud(machine: Any, variables: dict[str, str]) -> None:
    where = locate(env=machine_env(machine, **variables))
    assert (where.source, where.country) == (TIMEZONE, "FRA")
    assert where.cloud_provider is None and where.cloud_region is None


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"COLAB_RELEASE_TAG": "release-colab_20250101", "COLAB_GPU": "1"}, "Colab"),
        ({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, "Kaggle"),
        ({"K_SERVICE": "svc", "K_REVISION": "svc-00001"}, "Cloud Run"),
        ({"AWS_EXECUTION_ENV": "CloudShell"}, "CloudShell"),
    ],
)
def test_provider_without_region_is_recorded_and_country_comes_after(
    machine: Any, variables: dict[str, str], words: str
) -> None:
    where = locate(env=machine_env(machine, **variables))
    assert where.cloud_provider in ("gcp", "aws")
    assert where.cloud_region is None
    assert (where.source, where.country) == (TIMEZONE, "FRA")  # what gave the country
    assert words in (where.detail or "") and "region unknown" in (where.detail or "")
    assert "Europe/Paris" in (where.detail or "")


def test_cloud_region_unknown_to_the_table_is_kept_not_guessed(machine: Any) -> None:
    env = machine_env(machine, AWS_LAMBDA_FUNCTION_NAME="fn", AWS_REGION="xx-nowhere-9")
    where = locate(env=env)
    assert (where.cloud_provider, where.cloud_region) == ("aws", "xx-nowhere-9")
    assert (where.source, where.country) == (TIMEZONE, "FRA")
    assert "no data" in (where.detail or "")


def test_from_env_reads_nothing_else() -> None:
    assert cloud.from_env({}) is None
    hint = cloud.from_env({"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_REGION": "eu-west-3"})
    assert hint is not None and (hint.provider, hint.region, hint.via) == (
        "aws",
        "eu-west-3",
        "env",
    )


# -- 2b. instance metadata (opt-in) --------------------------------------------------------------


def aws_imds(handler: BaseHTTPRequestHandler) -> None:
    if handler.command == "PUT" and handler.path == "/latest/api/token":
        if handler.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return answer(handler, 200, "TOKEN-1")
        return answer(handler, 400)
    if handler.command == "GET" and handler.path == "/latest/meta-data/placement/region":
        if handler.headers.get("X-aws-ec2-metadata-token") != "TOKEN-1":
            return answer(handler, 401)
        return answer(handler, 200, "eu-west-3")
    answer(handler, 404)


def gcp_metadata(handler: BaseHTTPRequestHandler) -> None:
    if handler.path == "/computeMetadata/v1/instance/zone":
        if handler.headers.get("Metadata-Flavor") != "Google":
            return answer(handler, 403)
        return answer(
            handler, 200, "projects/123456/zones/europe-west1-b", {"Metadata-Flavor": "Google"}
        )
    answer(handler, 404)


def azure_imds(handler: BaseHTTPRequestHandler) -> None:
    if handler.path.startswith("/metadata/instance?api-version="):
        if handler.headers.get("Metadata") != "true":
            return answer(handler, 400)
        body = {"compute": {"location": "westeurope", "vmSize": "Standard_NC6"}, "network": {}}
        return answer(handler, 200, json.dumps(body), {"Content-Type": "application/json"})
    answer(handler, 400)


@pytest.mark.parametrize(
    ("respond", "provider", "region", "iso3"),
    [
        (aws_imds, "aws", "eu-west-3", "FRA"),
        (gcp_metadata, "gcp", "europe-west1", "BEL"),
        (azure_imds, "azure", "westeurope", "NLD"),
    ],
)
def test_metadata_each_provider(
    machine: Any, serve: Serve, respond: Any, provider: str, region: str, iso3: str
) -> None:
    server = serve(respond)
    # All three probes go to the one server: the two that do not match must not answer.
    where = locate(
        cloud_metadata=True, metadata_endpoints=all_at(server.url), env=machine_env(machine)
    )
    assert (where.cloud_provider, where.cloud_region) == (provider, region)
    assert (where.country, where.source) == (iso3, CLOUD_METADATA)
    assert where.detail and region in where.detail


def test_gcp_answer_without_its_flavour_header_is_not_gcp(machine: Any, serve: Serve) -> None:
    server = serve(lambda h: answer(h, 200, "projects/1/zones/europe-west1-b"))  # no header
    where = locate(
        cloud_metadata=True, metadata_endpoints={"gcp": server.url}, env=machine_env(machine)
    )
    assert where.source == TIMEZONE and where.cloud_provider is None


def test_metadata_budget_holds_against_a_slow_endpoint(machine: Any, serve: Serve) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2.0)
        answer(handler, 200, "eu-west-3")

    server = serve(slow)
    started = time.perf_counter()
    where = locate(
        cloud_metadata=True, metadata_endpoints=all_at(server.url), env=machine_env(machine)
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, elapsed  # it did not wait for the answer (the 300 ms budget: below)
    assert server.requests  # it was asked, and did not answer in time
    assert (where.source, where.country) == (TIMEZONE, "FRA")
    assert "300 ms" in (where.detail or "")


def test_metadata_nobody_answering_falls_through(machine: Any) -> None:
    started = time.perf_counter()
    where = locate(
        cloud_metadata=True, metadata_endpoints=all_at(closed_port_url()), env=machine_env(machine)
    )
    assert time.perf_counter() - started < 5.0  # a refused connection does not hang
    assert (where.source, where.country, where.cloud_provider) == (TIMEZONE, "FRA", None)


def test_metadata_is_not_asked_unless_opted_in(machine: Any, serve: Serve) -> None:
    server = serve(aws_imds)
    where = locate(metadata_endpoints=all_at(server.url), env=machine_env(machine))
    assert server.requests == []
    assert where.source == TIMEZONE


def test_metadata_fills_the_region_a_runtime_marker_lacks(machine: Any, serve: Serve) -> None:
    server = serve(gcp_metadata)
    env = machine_env(machine, K_SERVICE="svc", K_REVISION="svc-1")  # Cloud Run: no region var
    where = locate(cloud_metadata=True, metadata_endpoints=all_at(server.url), env=env)
    assert (where.cloud_provider, where.cloud_region, where.source) == (
        "gcp",
        "europe-west1",
        CLOUD_METADATA,
    )
    # Only the provider the environment named was asked.
    assert all(path.startswith("/computeMetadata/") for _, path, _ in server.requests)


# -- 3. the site file ----------------------------------------------------------------------------

SITE_INI = """\
[site]
name = Jean Zay
country = DEU
latitude = 48.71
longitude = 2.17
pue = 1.25
intensity_g_per_kwh = 60  # the site's contract figure
"""


def test_site_file_at_the_default_place(machine: Any) -> None:
    path = machine.write("/etc/wattprint/site.ini", SITE_INI)
    where = locate(env=machine_env(machine))
    assert (where.country, where.source) == ("DEU", SITE)
    assert str(path) in (where.detail or "") and "Jean Zay" in (where.detail or "")
    found = site.find(env=machine_env(machine))
    assert found is not None
    assert (found.pue, found.intensity_g_per_kwh, found.name) == (1.25, 60.0, "Jean Zay")
    assert site.read(path) == found


def test_site_file_named_by_argument_and_variable(machine: Any, tmp_path: Path) -> None:
    other = tmp_path / "cluster.ini"
    other.write_text("[site]\ncountry = CAN\nregion = QC\n")
    where = locate(site_file=other, env=machine_env(machine))
    assert (where.country, where.zone, where.source) == ("CAN", "CA-QC", SITE)
    env = machine_env(machine, WATTPRINT_SITE_CONFIG=str(other))
    assert locate(env=env).zone == "CA-QC"


def test_site_file_without_a_place_leaves_the_timezone(machine: Any) -> None:
    machine.write("/etc/wattprint/site.ini", "[site]\npue = 1.4\n")
    where = locate(env=machine_env(machine))
    assert (where.source, where.country) == (TIMEZONE, "FRA")
    found = site.find(env=machine_env(machine))
    assert found is not None and found.pue == 1.4 and not found.has_location


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[site]\ncontry = FRA\n", "contry", ["unknown key", "did you mean country"]),
        ("[site]\ncountry = Frnace\n", "country", ["'Frnace'"]),
        ("[site]\nzone = XX-YY\n", "zone", ["'XX-YY'"]),
        ("[site]\npue = fast\n", "pue", ["'fast'", "not a number"]),
        ("[site]\npue = 0.5\n", "pue", ["out of range"]),
        ("[site]\nlatitude = 48.7\n", "longitude", ["together"]),
        ("[site]\ncountry = FRA\nzone = DE\n", "zone", ["DE", "FRA"]),
        ("[site]\ncountry = USA\nregion = Bavaria\n", "region", ["'Bavaria'"]),
        ("[cluster]\ncountry = FRA\n", "", ["no [site] section"]),
        ("country = FRA\n", "", ["not a valid INI"]),
    ],
)
def test_bad_site_file_names_file_and_key(
    machine: Any, text: str, key: str, words: list[str]
) -> None:
    path = machine.write("/etc/wattprint/site.ini", text)
    with pytest.raises(ValueError) as caught:
        locate(env=machine_env(machine))
    message = str(caught.value)
    assert str(path) in message
    if key:
        assert f"[site] {key}:" in message
    for word in words:
        assert word in message, (word, message)


def test_named_site_file_missing_is_an_error(machine: Any, tmp_path: Path) -> None:
    env = machine_env(machine, WATTPRINT_SITE_CONFIG=str(tmp_path / "nope.ini"))
    with pytest.raises(ValueError, match="nope.ini"):
        locate(env=env)


# -- 4. the machine's timezone -------------------------------------------------------------------


def test_single_zone_country_timezone_gives_country_and_no_zone(machine: Any) -> None:
    # Europe/Paris: France is one grid zone, so ``zone`` stays None and the intensity layer
    # uses the country's figure (the same number the zone FR would give).
    where = locate(env=machine_env(machine))
    assert (where.country, where.zone, where.source, where.detail) == (
        "FRA",
        None,
        TIMEZONE,
        "Europe/Paris",
    )


def test_timezone_that_pins_a_sub_national_zone(machine: Any) -> None:
    machine.write("/etc/timezone", "Australia/Sydney\n")
    where = locate(env=machine_env(machine))
    assert (where.country, where.zone, where.source) == ("AUS", "AU-NSW", TIMEZONE)


@pytest.mark.parametrize("tz", ["UTC", "Etc/UTC", "Etc/GMT+3", "GMT"])
def test_utc_names_no_country(machine: Any, tz: str) -> None:
    machine.write("/etc/timezone", f"{tz}\n")
    where = locate(env=machine_env(machine))
    assert (where.source, where.country, where.zone) == (WORLD, None, None)
    assert where.detail == tz


def test_tz_variable_and_link_names(machine: Any) -> None:
    where = locate(env=machine_env(machine, TZ="Asia/Calcutta"))  # a link to Asia/Kolkata
    assert (where.country, where.source, where.detail) == ("IND", TIMEZONE, "Asia/Calcutta")
    assert where.zone == locate(env=machine_env(machine, TZ="Asia/Kolkata")).zone
    assert locate(env=machine_env(machine, TZ=":Etc/UTC")).source == WORLD


def test_localtime_symlink(machine: Any) -> None:
    os.remove(machine.path("/etc/timezone"))
    os.symlink("/usr/share/zoneinfo/Asia/Tokyo", machine.path("/etc/localtime"))
    assert locate(env=machine_env(machine)).country == "JPN"


# -- 5. IP geolocation (opt-in) ------------------------------------------------------------------

GEOJS_BERLIN = {
    "country_code": "DE",
    "country_code3": "DEU",
    "country": "Germany",
    "latitude": "52.52",
    "longitude": "13.40",
    "timezone": "Europe/Berlin",
}


def test_ip_geolocation_success(machine: Any, serve: Serve) -> None:
    machine.write("/etc/timezone", "Etc/UTC\n")
    server = serve(
        lambda h: answer(h, 200, json.dumps(GEOJS_BERLIN), {"Content-Type": "application/json"})
    )
    url = f"{server.url}/v1/ip/geo.json"
    where = locate(ip_geolocation=True, geoip_url=url, env=machine_env(machine))
    assert (where.country, where.source) == ("DEU", IP)
    assert (where.latitude, where.longitude) == (52.52, 13.40)
    assert url in (where.detail or "")
    assert len(server.requests) == 1 and server.requests[0][0] == "GET"


def test_ip_geolocation_coordinates_pick_a_sub_national_zone(machine: Any, serve: Serve) -> None:
    machine.write("/etc/timezone", "UTC\n")
    body = {"country_code3": "AUS", "latitude": "-33.87", "longitude": "151.21"}
    server = serve(lambda h: answer(h, 200, json.dumps(body)))
    where = locate(ip_geolocation=True, geoip_url=server.url, env=machine_env(machine))
    assert (where.country, where.zone, where.source) == ("AUS", "AU-NSW", IP)


def test_ip_geolocation_timeout_falls_through(machine: Any, serve: Serve) -> None:
    machine.write("/etc/timezone", "Etc/UTC\n")

    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3.0)
        answer(handler, 200, json.dumps(GEOJS_BERLIN))

    server = serve(slow)
    started = time.perf_counter()
    where = locate(ip_geolocation=True, geoip_url=server.url, env=machine_env(machine))
    assert time.perf_counter() - started < 3.0  # it did not wait for the answer
    assert (where.source, where.country) == (WORLD, None)
    assert "IP geolocation failed" in (where.detail or "")


@pytest.mark.parametrize(
    "respond",
    [
        lambda h: answer(h, 500, "oops"),
        lambda h: answer(h, 200, "<html>not json</html>"),
        lambda h: answer(h, 200, json.dumps({"error": True, "reason": "RateLimited"})),
        lambda h: answer(h, 200, json.dumps({"country_code": "ZZ"})),
    ],
)
def test_ip_geolocation_bad_answers_fall_through(machine: Any, serve: Serve, respond: Any) -> None:
    machine.write("/etc/timezone", "UTC\n")
    server = serve(respond)
    where = locate(ip_geolocation=True, geoip_url=server.url, env=machine_env(machine))
    assert where.source == WORLD
    assert "IP geolocation failed" in (where.detail or "")


def test_ip_geolocation_refused_connection_falls_through(machine: Any) -> None:
    machine.write("/etc/timezone", "UTC\n")
    where = locate(ip_geolocation=True, geoip_url=closed_port_url(), env=machine_env(machine))
    assert where.source == WORLD and "IP geolocation failed" in (where.detail or "")


@pytest.mark.parametrize(
    ("data", "iso3", "lat"),
    [
        (
            {"country_code_iso3": "FRA", "latitude": 48.86, "longitude": 2.34},
            "FRA",
            48.86,
        ),  # ipapi.co
        ({"country": "FR", "loc": "48.86,2.34"}, "FRA", 48.86),  # ipinfo.io
        ({"country_iso": "JP", "latitude": 35.6, "longitude": 139.7}, "JPN", 35.6),  # ifconfig.co
        ({"countryCode": "BR", "lat": -23.5, "lon": -46.6}, "BRA", -23.5),
    ],  # ip-api.com
)
def test_geoip_parser_reads_other_services(data: dict[str, Any], iso3: str, lat: float) -> None:
    got = geoip.parse(data, "x")
    assert (got.country, got.latitude) == (iso3, lat)


def test_geoip_refuses_other_schemes() -> None:
    with pytest.raises(geoip.GeoIPError, match="not an http"):
        geoip.lookup("file:///etc/passwd")


# -- order of precedence -------------------------------------------------------------------------

LAMBDA_PARIS = {"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_REGION": "eu-west-3"}


def test_explicit_beats_cloud(machine: Any) -> None:
    where = locate(country="DEU", env=machine_env(machine, **LAMBDA_PARIS))
    assert (where.country, where.source) == ("DEU", EXPLICIT)


def test_cloud_beats_site_file(machine: Any) -> None:
    machine.write("/etc/wattprint/site.ini", SITE_INI)  # says DEU
    where = locate(env=machine_env(machine, **LAMBDA_PARIS))
    assert (where.country, where.source) == ("FRA", CLOUD_ENV)


def test_site_file_beats_timezone(machine: Any) -> None:
    machine.write("/etc/wattprint/site.ini", SITE_INI)  # DEU; the timezone says France
    assert locate(env=machine_env(machine)).source == SITE


def test_provider_without_region_then_site_file(machine: Any) -> None:
    machine.write("/etc/wattprint/site.ini", SITE_INI)
    where = locate(env=machine_env(machine, COLAB_RELEASE_TAG="r1"))
    assert (where.country, where.source, where.cloud_provider) == ("DEU", SITE, "gcp")
    assert "Colab" in (where.detail or "")


def test_timezone_beats_ip_which_is_not_asked(machine: Any, serve: Serve) -> None:
    server = serve(lambda h: answer(h, 200, json.dumps(GEOJS_BERLIN)))
    where = locate(ip_geolocation=True, geoip_url=server.url, env=machine_env(machine))
    assert (where.country, where.source) == ("FRA", TIMEZONE)
    assert server.requests == []


def test_explicit_provider_overrides_a_detected_other(machine: Any) -> None:
    where = locate(cloud_provider="gcp", env=machine_env(machine, **LAMBDA_PARIS))
    assert (where.cloud_provider, where.source) == ("gcp", TIMEZONE)
    assert "ignored" in (where.detail or "")


# -- what to tell the user -----------------------------------------------------------------------


def test_describe_assumption(machine: Any) -> None:
    env = machine_env(machine)
    assert describe_assumption(locate(country="FRA", env=env)) is None
    assert describe_assumption(locate(env=machine_env(machine, **LAMBDA_PARIS))) is None
    said = describe_assumption(locate(env=env))
    assert said is not None
    assert "Europe/Paris" in said and 'country="FRA"' in said and "WATTPRINT_COUNTRY=FRA" in said
    world = describe_assumption(Location(source=WORLD, detail="Etc/UTC"))
    assert world is not None and "world average" in world and "Etc/UTC" in world
    assert "zone=" in world
    machine.write("/etc/wattprint/site.ini", SITE_INI)
    on_site = describe_assumption(locate(env=env))
    assert on_site is not None and "site file" in on_site and 'country="DEU"' in on_site
    by_ip = describe_assumption(Location(country="DEU", source=IP, detail="IP geolocation"))
    assert by_ip is not None and "IP" in by_ip and "Germany" in by_ip


def test_location_is_a_frozen_value_users_can_build() -> None:
    here = Location(country="FRA", zone="FR", latitude=48.85, longitude=2.35)
    assert here.source == EXPLICIT and here.country_name == "France"
    with pytest.raises(AttributeError):
        here.country = "DEU"  # type: ignore[misc]
