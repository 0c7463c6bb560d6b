"""Is this a cloud machine, whose, and in which region?

Two ways to find out, both returning a :class:`CloudHint`:

* :func:`from_env` reads the environment variables that managed runtimes set for the code they
  run (Lambda, ECS, SageMaker, Batch; Cloud Run, Cloud Functions, Vertex AI, Colab, Kaggle; App
  Service, Azure Functions, Azure Machine Learning). Offline, costs microseconds, always on.
  A variable counts only where the platform sets it *for* the code: a region variable alone
  (``AWS_DEFAULT_REGION``, ``CLOUD_ML_REGION``, ``GOOGLE_CLOUD_REGION``) is what a laptop sets
  to talk to a cloud API, so it is read only once a runtime marker says the code runs there.
* :func:`from_metadata` asks the instance metadata services (AWS IMDSv2, GCP, Azure IMDS), all
  three at once on threads, within a total budget (300 ms by default). Opt-in (network), and run
  by whichever thread calls it: the tracker calls it from ``start()``, never from its sampling
  thread.
"""

from __future__ import annotations

import functools
import json
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

AWS = "aws"
GCP = "gcp"
AZURE = "azure"

#: The link-local address all three providers serve their metadata on. An IP, not a host name:
#: resolving ``metadata.google.internal`` off GCP can block on DNS for seconds, past any budget.
METADATA_ADDRESS = "http://169.254.169.254"
DEFAULT_ENDPOINTS: dict[str, str] = {
    AWS: METADATA_ADDRESS,
    GCP: METADATA_ADDRESS,
    AZURE: METADATA_ADDRESS,
}
METADATA_BUDGET_S = 0.3
AZURE_API_VERSION = "2021-02-01"

_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")  # us-east-1, us-gov-west-1, eu-central-2
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")  # us-central1, europe-west4
_AZURE_REGION = re.compile(r"^[a-z][a-z0-9]+$")  # westeurope, eastus2
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):")


@dataclass(frozen=True)
class CloudHint:
    """What was found: ``provider`` (aws, gcp, azure), ``region`` if known, and how (``detail``)."""

    provider: str
    region: str | None
    detail: str
    via: str  # "env" or "metadata"


# -- environment ---------------------------------------------------------------------------------


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = _get(env, name)
        if value:
            return name, value
    return None


def _arn_region(arn: str) -> str | None:
    m = _ARN_REGION.match(arn)
    return m.group(1) if m and _AWS_REGION.match(m.group(1)) else None


def _aws(env: Mapping[str, str]) -> CloudHint | None:
    service = marker = None
    execution = _get(env, "AWS_EXECUTION_ENV")
    if _get(env, "AWS_LAMBDA_FUNCTION_NAME"):
        service, marker = "AWS Lambda", "AWS_LAMBDA_FUNCTION_NAME"
    elif (
        _get(env, "TRAINING_JOB_ARN")
        or _get(env, "SM_TRAINING_ENV")
        or _get(env, "SM_CURRENT_HOST")
    ):
        service = "Amazon SageMaker training"
        marker = next(
            n for n in ("TRAINING_JOB_ARN", "SM_TRAINING_ENV", "SM_CURRENT_HOST") if _get(env, n)
        )
    elif _get(env, "AWS_BATCH_JOB_ID"):
        service, marker = "AWS Batch", "AWS_BATCH_JOB_ID"
    elif _get(env, "ECS_CONTAINER_METADATA_URI_V4") or _get(env, "ECS_CONTAINER_METADATA_URI"):
        service = "Amazon ECS"
        marker = (
            "ECS_CONTAINER_METADATA_URI_V4"
            if _get(env, "ECS_CONTAINER_METADATA_URI_V4")
            else ("ECS_CONTAINER_METADATA_URI")
        )
    elif _get(env, "CODEBUILD_BUILD_ARN"):
        service, marker = "AWS CodeBuild", "CODEBUILD_BUILD_ARN"
    elif execution:
        service, marker = f"AWS ({execution})", "AWS_EXECUTION_ENV"
    if service is None:
        return None
    region = where = None
    found = _first(env, ("AWS_REGION", "AWS_DEFAULT_REGION"))
    if found and _AWS_REGION.match(found[1].lower()):
        where, region = found[0], found[1].lower()
    else:
        for name in ("TRAINING_JOB_ARN", "CODEBUILD_BUILD_ARN"):
            arn = _get(env, name)
            if arn and _arn_region(arn):
                where, region = name, _arn_region(arn)
                break
    return _hint(AWS, region, service, marker, where, "env")


def _gcp(env: Mapping[str, str]) -> CloudHint | None:
    service = marker = None
    region = where = None
    if _get(env, "CLOUD_ML_JOB_ID"):
        service, marker = "Vertex AI training", "CLOUD_ML_JOB_ID"
    elif _get(env, "CLOUD_RUN_JOB"):
        service, marker = "Cloud Run job", "CLOUD_RUN_JOB"
    elif _get(env, "K_SERVICE") and not _get(env, "KUBERNETES_SERVICE_HOST"):
        # Knative sets K_SERVICE too, but on Kubernetes, where every pod also gets
        # KUBERNETES_SERVICE_HOST; Cloud Run does not.
        service, marker = "Cloud Run", "K_SERVICE"
    elif _get(env, "FUNCTION_REGION") and _get(env, "FUNCTION_NAME"):
        service, marker = "Cloud Functions (1st gen)", "FUNCTION_NAME"
        where, region = "FUNCTION_REGION", _get(env, "FUNCTION_REGION")
    elif _get(env, "COLAB_RELEASE_TAG") or "COLAB_GPU" in env:
        service, marker = (
            "Google Colab",
            "COLAB_RELEASE_TAG" if _get(env, "COLAB_RELEASE_TAG") else "COLAB_GPU",
        )
    elif _get(env, "KAGGLE_KERNEL_RUN_TYPE"):
        service, marker = "Kaggle notebook (Google Cloud)", "KAGGLE_KERNEL_RUN_TYPE"
    if service is None:
        return None
    if region is None:
        found = _first(env, ("CLOUD_ML_REGION", "GOOGLE_CLOUD_REGION", "FUNCTION_REGION"))
        if found:
            where, region = found
    if region is not None:
        region = region.lower()
        if not _GCP_REGION.match(region):
            region = where = None
    return _hint(GCP, region, service, marker, where, "env")


def azure_region_name(display: str) -> str | None:
    """``West Europe`` or ``westeurope`` -> ``westeurope``; None if it cannot be a region name."""
    name = "".join(display.lower().split())
    return name if _AZURE_REGION.match(name) else None


def _azure(env: Mapping[str, str]) -> CloudHint | None:
    region = where = None
    if _get(env, "WEBSITE_SITE_NAME") and (
        _get(env, "REGION_NAME") or _get(env, "WEBSITE_INSTANCE_ID")
    ):
        service, marker = "Azure App Service / Functions", "WEBSITE_SITE_NAME"
        if _get(env, "REGION_NAME"):
            where, region = "REGION_NAME", azure_region_name(_get(env, "REGION_NAME") or "")
    elif _get(env, "AZUREML_RUN_ID") or _get(env, "AZUREML_ARM_WORKSPACE_NAME"):
        service = "Azure Machine Learning"
        marker = "AZUREML_RUN_ID" if _get(env, "AZUREML_RUN_ID") else "AZUREML_ARM_WORKSPACE_NAME"
        endpoint = _get(env, "AZUREML_SERVICE_ENDPOINT")  # https://<region>.api.azureml.ms
        m = re.match(r"^https?://([a-z0-9]+)\.api\.azureml\.ms", endpoint or "")
        if m:
            where, region = "AZUREML_SERVICE_ENDPOINT (the workspace's region)", m.group(1)
    else:
        return None
    return _hint(AZURE, region, service, marker, where, "env")


def _hint(
    provider: str, region: str | None, service: str, marker: str, where: str | None, via: str
) -> CloudHint:
    detail = f"{service} ({marker})"
    detail += f", region {region} from {where}" if region else ", region unknown"
    return CloudHint(provider, region, detail, via)


def from_env(env: Mapping[str, str]) -> CloudHint | None:
    """The cloud runtime the environment variables show, if any; never any I/O."""
    for probe in (_aws, _gcp, _azure):
        found = probe(env)
        if found is not None:
            return found
    return None


# -- instance metadata ---------------------------------------------------------------------------


@functools.cache
def _opener() -> Any:
    # urllib is imported here, not at the top: environment detection alone must stay cheap.
    # Never through a proxy: the metadata address is link-local, and a proxy would answer for it.
    import urllib.request

    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _fetch(
    url: str, headers: dict[str, str], timeout: float, method: str = "GET"
) -> tuple[str, dict]:
    import urllib.request

    request = urllib.request.Request(url, headers=headers, method=method)
    with _opener().open(request, timeout=max(timeout, 0.01)) as response:
        return response.read(65536).decode("utf-8", "replace"), dict(response.headers)


def _aws_metadata(base: str, deadline: float) -> str | None:
    base = base.rstrip("/")
    import urllib.error

    headers: dict[str, str] = {}
    try:
        ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
        token, _ = _fetch(f"{base}/latest/api/token", ttl, deadline - time.monotonic(), "PUT")
        headers["X-aws-ec2-metadata-token"] = token.strip()
    except urllib.error.HTTPError:
        pass  # IMDSv1 only: the GET works without a token
    text, _ = _fetch(
        f"{base}/latest/meta-data/placement/region", headers, deadline - time.monotonic()
    )
    region = text.strip().lower()
    return region if _AWS_REGION.match(region) else None


def _gcp_metadata(base: str, deadline: float) -> str | None:
    text, headers = _fetch(
        f"{base.rstrip('/')}/computeMetadata/v1/instance/zone",
        {"Metadata-Flavor": "Google"},
        deadline - time.monotonic(),
    )
    flavour = {k.lower(): v for k, v in headers.items()}.get("metadata-flavor", "")
    if flavour.strip().lower() != "google":  # something else answered on that address
        return None
    zone = text.strip().rsplit("/", 1)[-1].lower()  # projects/123/zones/europe-west4-a
    region = zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone
    return region if _GCP_REGION.match(region) else None


def _azure_metadata(base: str, deadline: float) -> str | None:
    url = f"{base.rstrip('/')}/metadata/instance?api-version={AZURE_API_VERSION}"
    text, _ = _fetch(url, {"Metadata": "true"}, deadline - time.monotonic())
    location = json.loads(text).get("compute", {}).get("location")
    return azure_region_name(location) if isinstance(location, str) else None


_PROBES: dict[str, Callable[[str, float], str | None]] = {
    AWS: _aws_metadata,
    GCP: _gcp_metadata,
    AZURE: _azure_metadata,
}
_WHERE = {
    AWS: "AWS instance metadata (IMDSv2 placement/region)",
    GCP: "GCP metadata server (instance/zone)",
    AZURE: "Azure instance metadata (compute.location)",
}


def from_metadata(
    endpoints: Mapping[str, str] | None = None, budget_s: float = METADATA_BUDGET_S
) -> CloudHint | None:
    """Ask the providers' instance metadata services, concurrently, for at most ``budget_s``.

    ``endpoints`` maps ``aws``/``gcp``/``azure`` to a base URL (default: all three at
    169.254.169.254; tests point them at a local server; a provider left out is not asked).
    Network I/O: opt-in only, and run in the calling thread's time (threads of its own, joined
    within the budget; a late answer is dropped). Returns the first provider that answers with a
    well-formed region, or None.
    """
    endpoints = DEFAULT_ENDPOINTS if endpoints is None else endpoints
    deadline = time.monotonic() + budget_s
    answers: queue.Queue[tuple[str, str | None]] = queue.Queue()

    def ask(provider: str, base: str) -> None:
        region: str | None = None
        try:
            region = _PROBES[provider](base, deadline)
        except Exception:  # refused, timed out, not that provider, malformed: no answer
            region = None
        answers.put((provider, region))

    asked = 0
    for provider, base in endpoints.items():
        if provider in _PROBES and base:
            name = f"wattprint-metadata-{provider}"
            threading.Thread(target=ask, args=(provider, base), name=name, daemon=True).start()
            asked += 1
    for _ in range(asked):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            provider, region = answers.get(timeout=left)
        except queue.Empty:
            break
        if region:
            detail = f"{_WHERE[provider]}, region {region}"
            return CloudHint(provider, region, detail, "metadata")
    return None
