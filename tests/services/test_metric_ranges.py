"""A value entered by hand must lie on its metric's scale: NPS −100..100, percentages 0..100."""

from __future__ import annotations

import pytest

from core.errors import BadInputError
from services import metrics as metric_service
from services.maps import create_map_from_template


@pytest.fixture
def map_id(engine):
    return create_map_from_template(template_key="b2b-5-stage", name="Scales", owner="Ops")


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("nps", 250, "from -100 to 100"),
        ("nps", -100.5, "from -100 to 100"),
        ("csat", -5, "from 0 to 100"),
        ("csat", 100.1, "from 0 to 100"),
        ("conversion", 120, "from 0 to 100"),
        ("fcr", -1, "from 0 to 100"),
        ("retention", -3, "of 0 or more"),
    ],
)
def test_a_value_off_the_scale_is_refused_and_not_stored(map_id, kind, value, expected):
    metric_id = metric_service.create_metric(map_id=map_id, kind=kind)
    with pytest.raises(BadInputError, match=expected) as refused:
        metric_service.set_metric_value(metric_id, "2026-01", value)
    assert metric_service.DEFAULT_NAMES[kind] in str(refused.value)
    assert not metric_service.get_metric(metric_id).values


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("nps", -100),
        ("nps", 100),
        ("csat", 0),
        ("csat", 100),
        ("conversion", 42.5),
        ("retention", 130),  # returning accounts: a retention rate can exceed 100 (analytics.metrics)
        ("ces", 9),  # on the dataset's own scale
        ("clv", -5000),  # money: no bounded scale
        ("custom", 1e9),
    ],
)
def test_a_value_on_the_scale_or_of_an_unbounded_kind_is_kept(map_id, kind, value):
    metric_id = metric_service.create_metric(map_id=map_id, kind=kind)
    metric_service.set_metric_value(metric_id, "2026-01", value)
    assert metric_service.get_metric(metric_id).latest_value == value
