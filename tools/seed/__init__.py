"""Fill a database with realistic synthetic registrations, for demos and benchmarks.

    .venv/bin/python -m tools.seed --count N [--database-url URL] [--seed S] [--days D]

Migrates the database first, then adds N registrations (on top of any already there) with
their people, sections, submissions (with snapshots), histories, and the review's decisions
and return items, spread over the divisions of Zhejiang, the statuses, the last D days
(weekdays busier than weekends, office hours) and the code lists. Each registration follows
a timeline: started, submitted after a few hours, decided after a log-normal wait (returned
about one time in five, for one or two catalogue reasons; a WRONG_DEPARTMENT return moves it
to another department), resubmitted, approved; whatever would happen after now has not
happened yet, so the newest registrations are still DRAFT, SUBMITTED or RETURNED and the
backlog has realistic ages. A few are withdrawn. Every ID number is a valid resident ID (or
another document type) and unique. No attachment files are made.

On PostgreSQL rows go in by binary COPY (asyncpg) in chunks; elsewhere by batched INSERTs.
The status-change effects do not run (no outbox, no SMS): the statistics counters are
recomputed from the raw tables at the end by ``models.stats.rebuild_aggregates``.

The modules: ``population`` (the weights), ``tables`` (columns and row buffers), ``timeline``
(what happens to a registration), ``snapshot`` and ``synth`` (the rows, made in Python),
``database`` (reviewers, ids, INSERTs), ``sql_parts``, ``sql_plan``, ``sql_rows`` and
``postgres`` (the same population made by the server), ``run`` (one seeding), ``__main__``
(the command line).
"""

from tools.seed.run import SeedReport, seed

__all__ = ["SeedReport", "seed"]
