"""Reaching Ray, and what every actor needs to know: the database URL, the settings file, the threads.

``address``: ``"local"`` starts a Ray instance of its own in this process's machine (``num_cpus`` = actors x CPUs
per actor) and stops it at the end; ``"auto"`` joins the cluster this machine belongs to (``ray start``),
``"ray://host:10001"`` a remote one through the Ray client. Ray itself is imported here, on use: it is the optional
``cluster`` extra, and ``import resonanz.cli`` stays free of it.

The actors get their settings through Ray's ``runtime_env`` (:func:`actor_environment`), never from the working
directory of the driver: every ``RESONANZ_*`` variable of the driver (paths made absolute), ``RESONANZ_DATABASE_URL``
as the driver resolved it, ``RESONANZ_CONFIG`` = the absolute path of the settings file the driver read (the same
file must exist there on every machine; when the driver has none, an actor reads its own machine's default file,
if any), and ``RESONANZ_NLP__THREADS`` = the actor's CPUs unless the driver sets it. A variable set only on a
worker machine still applies there; the model version check catches an ``[nlp]`` that differs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import make_url

from resonanz.backfill.errors import BackfillNeedsPostgresError, ClusterError, RayMissingError
from resonanz.core.db import checked_database_url
from resonanz.core.settings import Settings, config_file
from store.db import normalise_url

log = logging.getLogger(__name__)

LOCAL = "local"
PATH_VARIABLES = ("RESONANZ_CONFIG", "RESONANZ_DATA_DIR", "RESONANZ_CACHE_DIR")
"""Environment variables that name a path: made absolute before they travel (an actor's working directory is not
the driver's)."""


def import_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or :class:`RayMissingError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RayMissingError(
            f"Ray ist nicht installiert ({exc}). `pip install 'resonanz[cluster]'` installiert es, auf diesem "
            "Rechner und in derselben Version auf jedem Rechner des Ray-Clusters."
        ) from exc
    return ray


def require_postgres(settings: Settings) -> str:
    """The database URL the actors get; :class:`BackfillNeedsPostgresError` unless it is PostgreSQL."""
    url = checked_database_url(settings.resolved_database_url())
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql":
        raise BackfillNeedsPostgresError(
            f"Ein Backfill über Ray braucht PostgreSQL, die Datenbank ist aber {parsed.get_backend_name()} "
            f"({parsed.render_as_string(hide_password=True)}): die Actors laufen in eigenen Prozessen und auf "
            "anderen Rechnern. Entweder RESONANZ_DATABASE_URL auf einen PostgreSQL-Server setzen (siehe "
            "deploy/README.md) oder `resonanz score` nehmen: es bewertet alle offenen Beiträge in einem Prozess."
        )
    return url


def actor_environment(settings: Settings, *, threads: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``RESONANZ_*`` variables every actor gets (Ray's ``runtime_env``): the driver's, paths made absolute,
    the settings file this driver reads, its database URL, and ``nlp.threads`` = the actor's CPUs unless set."""
    environ = os.environ if environ is None else environ
    env = {key: value for key, value in environ.items() if key.startswith("RESONANZ_")}
    for key in PATH_VARIABLES:
        if env.get(key):
            env[key] = str(Path(env[key]).expanduser().resolve())
    config = config_file()
    if config.is_file():
        env["RESONANZ_CONFIG"] = str(config.expanduser().resolve())
    env["RESONANZ_DATABASE_URL"] = require_postgres(settings)
    env.setdefault("RESONANZ_NLP__THREADS", str(threads))
    return env


def connect(address: str, *, cpus: int) -> bool:
    """Start or join Ray (see the module docstring); True when this call did (the caller then calls
    ``ray.shutdown()``), False when Ray was running in this process already."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "logging_level": logging.WARNING}
    try:
        if address == LOCAL:
            ray.init(address=LOCAL, num_cpus=cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(
            f"Der Ray-Cluster unter {address} ist nicht erreichbar ({exc}). Läuft er (`ray start --head` auf dem "
            "Kopfrechner, `ray status` zeigt ihn)? --address auto nimmt den Cluster dieses Rechners, "
            "ray://rechner:10001 einen entfernten, --address local startet Ray nur für diesen Lauf."
        ) from exc
    return True


def check_capacity(ray: ModuleType, cpus: int) -> None:
    """:class:`ClusterError` when the cluster has fewer CPUs than the actors ask for (they would wait forever)."""
    total = float(ray.cluster_resources().get("CPU", 0))
    if total < cpus:
        raise ClusterError(
            f"Die Actors brauchen zusammen {cpus} CPUs, der Ray-Cluster hat {total:g}. Weniger --actors oder "
            "--cpus-per-actor angeben, oder weitere Rechner mit `ray start --address <kopf>:6379` anschließen."
        )
