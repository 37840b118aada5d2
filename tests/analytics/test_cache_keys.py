"""A context read back from Streamlit's cache keys the caches as the one it was made from.

``st.cache_data`` hashes its arguments by value; a frozenset by its iteration order, which for an
equal set can differ once the set has been pickled and read back (as every cached context is in
a new session). Then a fresh session missed every analysis cache and computed it again.
"""

from __future__ import annotations

import pickle
import random
import subprocess
import sys

from analytics.schema import EventSchema, Role
from tests import ROOT

PROBE = """
import pickle, random, warnings
warnings.filterwarnings("ignore")
import logging; logging.disable(logging.WARNING)
import streamlit as st
from analytics.schema import EventSchema, Role
calls = []

@st.cache_data(show_spinner=False)
def load(schema):
    calls.append(1)
    return len(schema.roles)

rng = random.Random(7)
roles = list(Role)
misses = 0
for _ in range(200):
    schema = EventSchema(roles=frozenset(rng.sample(roles, rng.randint(3, len(roles)))))
    load(schema)
    before = len(calls)
    load(pickle.loads(pickle.dumps(schema)))  # an equal schema: must not compute again
    misses += len(calls) - before
print(misses)
"""


def test_a_schema_read_back_hits_the_cache() -> None:
    # Several hash seeds: the order of a set's members changes with the seed.
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert done.stdout.strip().splitlines()[-1] == "0", (seed, done.stdout[-300:])


def test_roles_pickle_in_sorted_order_and_stay_a_set() -> None:
    rng = random.Random(3)
    for _ in range(50):
        members = rng.sample(list(Role), rng.randint(1, len(Role)))
        schema = EventSchema(roles=frozenset(members))
        copy = pickle.loads(pickle.dumps(schema))
        assert copy == schema and hash(copy) == hash(schema)
        assert list(copy.roles.__reduce__()[1][0]) == sorted(members)
        assert pickle.dumps(copy) == pickle.dumps(schema)
        assert Role.JOURNEY in schema.roles or Role.JOURNEY not in members
        assert (schema.roles | {Role.NPS}) >= set(members)
