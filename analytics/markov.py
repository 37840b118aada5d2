"""Absorbing Markov chains fitted from transition counts: the linear algebra behind attribution and outlook.

A chain has *transient* states (touchpoints, and a start state) and *absorbing* states (the goal,
and the ways a journey can end without it). It is fitted by maximum likelihood from counted
transitions: ``P[i, j] = count(i → j) / count(i → anything)`` (first order: where a journey goes
next depends only on the state it is in).

With ``Q`` the transient→transient block and ``R`` the transient→absorbing block of ``P``, the
probability of ending in each absorbing state from each transient state is ``B = (I − Q)⁻¹ R``,
computed by solving ``(I − Q) B = R`` (never by inverting). Every transient state of a chain fitted
from finished paths reaches an absorbing state, so ``I − Q`` is invertible.

Removing a state ``s`` (Markov attribution) redirects every transition into ``s`` to the null
state. A journey's chance of converting then falls by the chance of reaching ``s`` first and
converting from there (strong Markov property), so with ``N = (I − Q)⁻¹`` (expected visits) and
``h(s) = N[start, s] / N[s, s]`` (probability of ever visiting ``s`` from the start):

    P_without_s(conversion) = B[start, conversion] − h(s) · B[s, conversion]

which gives every state's removal at the price of one factorisation instead of one per state.
The tests hold this against re-solving the chain with the edges redirected, and against a plain
iteration on a dictionary graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import BadInputError

# The state every journey leaves first: attribution's and the outlook's chains start here.
START = "(start)"
# Its code among the coded transitions both build (node codes are 0 or more; their ends are below -1).
START_CODE = -1


def refuse_state_names(nodes: Iterable[str], states: Sequence[str], *, prefix: str | None = None) -> None:
    """Refuse nodes named like the chain's own ``states`` (or starting with ``prefix``): a touchpoint named
    ``(start)`` would merge with the start state, one named ``lost: X`` would end journeys, silently."""
    clash = sorted({n for n in nodes if n in states or (prefix is not None and n.startswith(prefix))})
    if clash:
        kept = ", ".join(f"“{s}”" for s in states) + (f" and names starting with “{prefix}”" if prefix else "")
        raise BadInputError(
            f"the chain keeps {kept} for its own states, and this log has a node named "
            + ", ".join(f"“{n}”" for n in clash[:5])
            + ": rename it in the log (or the map it is linked to) to use this analysis"
        )


@dataclass(frozen=True)
class AbsorbingChain:
    """A fitted absorbing chain.

    ``transient`` and ``absorbing`` name the states; ``counts`` has one row per transient state
    and one column per state (transient first, then absorbing), holding transition counts.
    A transient state without any outgoing count stays where it is forever (a row of zeros in ``Q``
    and ``R``): it never absorbs, so its absorption probabilities are 0.
    """

    transient: tuple[str, ...]
    absorbing: tuple[str, ...]
    counts: np.ndarray

    @classmethod
    def from_counts(
        cls,
        transitions: pd.DataFrame,
        *,
        absorbing: Sequence[str],
        source: str = "source",
        target: str = "target",
        count: str = "count",
        transient_first: Sequence[str] = (),
    ) -> AbsorbingChain:
        """Build a chain from a frame of ``source, target, count`` rows.

        ``absorbing`` names the absorbing states (a source may never be absorbing). Transient
        states are every other name seen, ``transient_first`` leading (e.g. the start state), the
        rest sorted, so a chain is the same whatever the row order of ``transitions``.

        A source named like an absorbing state is refused (:class:`BadInputError`): the data can cause
        it (a touchpoint named ``(goal)``, ``(conversion)``, ``lost: …`` in the outlook and attribution).
        """
        absorbing = tuple(absorbing)
        absorbing_set = set(absorbing)
        sources = transitions[source].astype(str)
        targets = transitions[target].astype(str)
        bad = sorted(set(sources) & absorbing_set)
        if bad:
            raise BadInputError(
                "a touchpoint, stage or channel is named like a state where journeys end, which the chain cannot "
                "leave: " + ", ".join(f"“{b}”" for b in bad[:5]) + "; rename it in the log (or the map it is linked to)"
            )
        seen = (set(sources) | set(targets)) - absorbing_set
        lead = [s for s in transient_first if s not in absorbing_set]
        transient = tuple(lead + sorted(seen - set(lead)))
        index = {name: i for i, name in enumerate(transient)}
        index.update({name: len(transient) + j for j, name in enumerate(absorbing)})
        counts = np.zeros((len(transient), len(transient) + len(absorbing)))
        np.add.at(
            counts,
            (sources.map(index).to_numpy(dtype=int), targets.map(index).to_numpy(dtype=int)),
            transitions[count].to_numpy(dtype=float),
        )
        return cls(transient=transient, absorbing=absorbing, counts=counts)

    # ------------------------------------------------------------------ structure

    @property
    def n_transient(self) -> int:
        return len(self.transient)

    # Asking for a state the chain does not have is a caller's bug, not something a user can cause (the
    # callers ask for the start state and their own absorbing states, which every chain they build has,
    # or for a state they first checked is transient): a KeyError, never a message for the user.

    def transient_index(self, state: str) -> int:
        try:
            return self.transient.index(state)
        except ValueError:
            raise KeyError(f"{state!r} is not a transient state of the fitted chain") from None

    def absorbing_index(self, state: str) -> int:
        try:
            return self.absorbing.index(state)
        except ValueError:
            raise KeyError(f"{state!r} is not an absorbing state of the chain") from None

    def probabilities(self) -> np.ndarray:
        """Row-normalised transition probabilities (rows without counts stay zero)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, self.counts / np.where(totals > 0, totals, 1.0), 0.0)

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Q, R)``: transient→transient and transient→absorbing probabilities."""
        p = self.probabilities()
        return p[:, : self.n_transient], p[:, self.n_transient :]

    # ------------------------------------------------------------------ solutions

    def absorption(self) -> np.ndarray:
        """``B`` (transient × absorbing): probability of ending in each absorbing state."""
        q, r = self.blocks()
        if self.n_transient == 0:
            return np.zeros((0, len(self.absorbing)))
        return np.linalg.solve(np.eye(self.n_transient) - q, r)

    def fundamental(self) -> np.ndarray:
        """``N = (I − Q)⁻¹``: expected visits to each transient state from each transient state."""
        q, _ = self.blocks()
        eye = np.eye(self.n_transient)
        return np.linalg.solve(eye - q, eye)

    def removal_probabilities(self, start: str, target: str) -> np.ndarray:
        """For every transient state ``s``: P(absorbed in ``target`` from ``start``) once ``s`` is removed.

        Removing ``s`` redirects every transition into ``s`` to a null state; see the module
        docstring for the formula. The entry for ``start`` itself is 0 (nothing can start).
        """
        i0 = self.transient_index(start)
        k = self.absorbing_index(target)
        n = self.fundamental()
        _, r = self.blocks()
        b = n @ r[:, k]
        hit = n[i0, :] / np.diag(n)
        out = b[i0] - hit * b
        out[i0] = 0.0
        # Guard tiny negative values from rounding.
        return np.clip(out, 0.0, None)


def removal_effects(chain: AbsorbingChain, start: str, target: str) -> pd.Series:
    """Removal effect of every transient state but ``start``: ``1 − P_without_s / P`` (0 when P = 0)."""
    b = chain.absorption()
    i0 = chain.transient_index(start)
    base = float(b[i0, chain.absorbing_index(target)]) if chain.n_transient else 0.0
    without = chain.removal_probabilities(start, target)
    names = [s for s in chain.transient if s != start]
    idx = [chain.transient_index(s) for s in names]
    if base <= 0:
        return pd.Series(0.0, index=pd.Index(names, dtype="string"), dtype="float64")
    effects = np.clip(1.0 - without[idx] / base, 0.0, 1.0)
    return pd.Series(effects, index=pd.Index(names, dtype="string"), dtype="float64")


def top_transitions(
    chain: AbsorbingChain, state: str, n: int, labels: dict[str, str] | None = None
) -> list[tuple[str, float]]:
    """The ``n`` most likely next states from ``state`` with their probabilities (ties: by name)."""
    p = chain.probabilities()[chain.transient_index(state)]
    names: Iterable[str] = (*chain.transient, *chain.absorbing)
    ranked = sorted(
        ((labels or {}).get(name, name), float(prob)) for name, prob in zip(names, p, strict=True) if prob > 0
    )
    ranked.sort(key=lambda item: -item[1])
    return ranked[:n]
