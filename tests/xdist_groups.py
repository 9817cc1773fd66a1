"""A pytest plugin (loaded by tests/conftest.py) that keeps ``--dist loadgroup`` working.

pytest-xdist 3.8 puts an item in its ``xdist_group`` by renaming ``item._nodeid`` to
``<nodeid>@<group>`` on the worker; pytest 9.2 no longer reads that attribute (a node's id
is ``item._id``, a ``NodeId``), so the rename is lost and a group's tests are scattered over
the workers, each starting its own copy of the server they were grouped to share. This hook
does the rename xdist means to, after xdist's own hook, and only where it did not happen.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{mark.args[0]}")
