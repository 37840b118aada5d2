"""JourneyLens's tests; :data:`ROOT` is the project's root, for the tests that read or run its files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
