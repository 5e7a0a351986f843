"""Several workers on one PostgreSQL: ``resonanz run`` defers the jobs, ``resonanz worker`` processes run them.

The queue is `procrastinate <https://procrastinate.readthedocs.io>`_ (PostgreSQL only; jobs, locks, heartbeats
and retries live in the database), switched on with ``[workers] mode = "procrastinate"``
(``RESONANZ_WORKERS__MODE``). SQLite keeps the single-process scheduler (:mod:`resonanz.pipeline.scheduler`).

* :mod:`.app` - the procrastinate app for the configured database, and running one worker;
* :mod:`.schema` - installing and upgrading the queue's own tables (``resonanz worker --schema-only``);
* :mod:`.tasks` - the jobs: collect one source, plan scoring, score one id range, link, value, alerts, digest,
  and the periodic check that puts the jobs of dead workers back into the queue;
* :mod:`.claims` - who scores which posts (id ranges planned once) and taking over a dead worker's collection run;
* :mod:`.deferring` - what ``resonanz run`` does in this mode: the same triggers, but each only defers a job.
"""
