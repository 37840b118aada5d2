"""What a writer may store: SQLModel create/update models (``table=False``) for everything a map holds.

Every writer of map content (the studio's edits, personas, metrics, the map document) validates
through these models with :func:`validate`, so one value is refused the same way whoever sends it.
A refusal is a :class:`core.errors.BadInputError` naming the field as the user sees it (the model
field's ``title``, after the row's name when there is one: ``stage “Awareness”: customer goal``),
the value, and what is expected; the first bad value stops the validation and nothing is written.

The building blocks (``clean_text``, ``clean_score``...) are the coercions of single values: lenient
about form (``"3"``, ``3.0`` and ``3`` are the same score; a blank cell of a table is empty), strict
about meaning (a score of 6, a date of "next week", a state of "past" are refused).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, TypeVar

import pandas as pd
from pydantic import BeforeValidator, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Field, SQLModel

from core.errors import BadInputError
from core.journey_map import (
    ACTION_FIELDS,
    EMOTION_MAX,
    EMOTION_MIN,
    MAP_FIELDS,
    OPPORTUNITY_FIELDS,
    PAIN_POINT_FIELDS,
    PERSONA_FIELDS,
    SCORE_MAX,
    SCORE_MIN,
    STAGE_FIELDS,
    TOUCHPOINT_FIELDS,
)
from db.crud import MAX_NAME_LENGTH, clean_name
from db.models import ActionStatus, CommitteeRole, Direction, Lane, MapState

MAX_TEXT_LENGTH = 4000

# --------------------------------------------------------------------------- single values


def is_blank(value: Any) -> bool:
    """None, NaN, pandas' NA/NaT: an empty cell of a table."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict | set) else False
    except (TypeError, ValueError):
        return False


def _empty(value: Any) -> bool:
    return is_blank(value) or (isinstance(value, str) and not value.strip())


def clean_text(value: Any, field_name: str, *, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Optional free text: stripped; refused over ``max_length`` characters, with NUL characters or
    with lone surrogates (not storable as UTF-8)."""
    if is_blank(value):
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        raise BadInputError.invalid(field_name, value, f"at most {max_length} characters (got {len(text)})")
    if "\x00" in text:
        raise BadInputError.invalid(field_name, value, "text without NUL characters")
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise BadInputError.invalid(field_name, value, "valid Unicode text (no lone surrogates)")
    return text


def clean_required_text(value: Any, field_name: str) -> str:
    """Free text that must not be empty (a pain point's description, an action)."""
    text = clean_text(value, field_name)
    if not text:
        raise BadInputError.invalid(field_name, value, "a non-empty text")
    return text


def _number(value: Any, field_name: str, expected: str, *, whole: bool = False, not_finite: str = "") -> float:
    """``value`` as a finite number (a whole one if ``whole``); refused with ``expected`` otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError.invalid(field_name, value, expected) from None
    if not math.isfinite(number):
        raise BadInputError.invalid(field_name, value, not_finite or expected)
    if whole and not number.is_integer():
        raise BadInputError.invalid(field_name, value, expected)
    return number


def clean_int_range(value: Any, field_name: str, low: int, high: int, *, allow_none: bool = False) -> int | None:
    """A whole number from ``low`` to ``high`` (accepts 3, 3.0, "3", "+2"); refused otherwise."""
    expected = f"a whole number from {low} to {high}"
    if _empty(value):
        if allow_none:
            return None
        raise BadInputError.invalid(field_name, value, expected)
    if isinstance(value, bool):
        raise BadInputError.invalid(field_name, value, expected)
    number = _number(value, field_name, expected, whole=True)
    if not low <= number <= high:
        raise BadInputError.invalid(field_name, value, expected)
    return int(number)


def clean_emotion(value: Any, field_name: str = "emotion") -> int | None:
    """An emotion score −2..+2, or None (no score)."""
    return clean_int_range(value, field_name, EMOTION_MIN, EMOTION_MAX, allow_none=True)


def clean_score(value: Any, field_name: str) -> int:
    """A 1–5 score (severity, effort, customer value, business value)."""
    result = clean_int_range(value, field_name, SCORE_MIN, SCORE_MAX)
    assert result is not None
    return result


def clean_date(value: Any, field_name: str) -> date | None:
    """A calendar date (a date, a datetime, or ISO text ``YYYY-MM-DD``), or None."""
    if _empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BadInputError.invalid(field_name, value, "a date as YYYY-MM-DD") from None


def clean_bool(value: Any, field_name: str) -> bool:
    """Yes or no: a bool, or text such as yes/no, true/false, 1/0, x, ✓; blank is no."""
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "x", "✓"):
        return True
    if text in ("false", "no", "0", "n", ""):
        return False
    raise BadInputError.invalid(field_name, value, "yes or no")


def clean_list(value: Any, field_name: str) -> list[str]:
    """A list of short texts: a list, or text separated by semicolons or line breaks; blanks dropped."""
    if is_blank(value):
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.replace("\n", ";").split(";")
    elif isinstance(value, Iterable):
        items = value
    else:
        raise BadInputError.invalid(field_name, value, "a list of names")
    out: list[str] = []
    for item in items:
        text = clean_text(item, field_name, max_length=MAX_NAME_LENGTH)
        if text and text not in out:
            out.append(text)
    return out


def clean_choice(value: Any, field_name: str, choices: Sequence[str], *, allow_none: bool = False) -> str | None:
    """One of ``choices`` (exact text); blank is None when ``allow_none``."""
    if _empty(value):
        if allow_none:
            return None
        raise BadInputError.invalid(field_name, value, "one of: " + ", ".join(choices))
    text = str(value).strip()
    if text not in choices:
        raise BadInputError.invalid(field_name, value, "one of: " + ", ".join(choices))
    return text


def clean_id(value: Any, field_name: str) -> int | None:
    """The id of a row (a whole number), or None when blank; whether it exists is the writer's check."""
    if is_blank(value):
        return None
    return int(_number(value, field_name, "the id of an existing item", whole=True))


def clean_position(value: Any, field_name: str) -> float | None:
    """A place in an order (0-based, fractions allowed), or None (blank: keep the current place)."""
    if is_blank(value):
        return None
    return _number(value, field_name, "a number")


def clean_finite(value: Any, field_name: str) -> float | None:
    """A finite number (a metric's target), or None."""
    if value is None:
        return None
    return _number(value, field_name, "a number", not_finite="a finite number")


# --------------------------------------------------------------------------- typed fields of the models


def label(info: ValidationInfo) -> str:
    """How the user sees the field being validated: the row (if any), then the field's title."""
    context = info.context or {}
    model = context.get("model")
    field = model.model_fields.get(info.field_name or "") if model is not None else None
    title = (field.title if field is not None else None) or (info.field_name or "").replace("_", " ")
    row = context.get("row")
    return f"{row}: {title}" if row else title


def _check(fn: Any, *args: Any, **kwargs: Any) -> BeforeValidator:
    return BeforeValidator(lambda value, info: fn(value, label(info), *args, **kwargs))


Name = Annotated[str, _check(lambda value, where: clean_name(value, where))]
Text = Annotated[str, _check(clean_text)]
ShortText = Annotated[str, _check(clean_text, max_length=MAX_NAME_LENGTH)]
RequiredText = Annotated[str, _check(clean_required_text)]
Score = Annotated[int, _check(clean_score)]
Emotion = Annotated[int | None, _check(clean_emotion)]
Flag = Annotated[bool, _check(clean_bool)]
Names = Annotated[list[str], _check(clean_list)]
Day = Annotated[date | None, _check(clean_date)]
Id = Annotated[int | None, _check(clean_id)]
Position = Annotated[float | None, _check(clean_position)]
Finite = Annotated[float | None, _check(clean_finite)]


def _one_of(choices: Iterable[str], *, allow_none: bool = False) -> BeforeValidator:
    values = [str(c) for c in choices]
    return _check(clean_choice, values, allow_none=allow_none)


# --------------------------------------------------------------------------- the models


class Input(SQLModel):
    """Base of the input models: unknown fields are refused, naming the fields there are."""

    kind: ClassVar[str] = "item"
    refuse_unknown: ClassVar[bool] = True  # False: fields the model does not have are ignored (whole rows)
    field_list: ClassVar[tuple[str, ...]] = ()  # what a user edits on this item (the field lists of core.journey_map)

    @classmethod
    def unknown_field(cls) -> str:
        """What an unknown field's message expects instead."""
        return f"a field of a {cls.kind}: " + ", ".join(cls.field_list)


class MapUpdate(Input):
    kind: ClassVar[str] = "map"
    field_list: ClassVar[tuple[str, ...]] = MAP_FIELDS

    @classmethod
    def unknown_field(cls) -> str:
        return "one of the map's fields: " + ", ".join(cls.field_list)

    name: Name = Field(default="", title="map name")
    description: Text = Field(default="", title="description")
    scenario: Text = Field(default="", title="scenario")
    state: Annotated[str, _one_of(MapState)] = Field(default=MapState.CURRENT.value, title="state")
    owner: ShortText = Field(default="", title="owner")
    review_by: Day = Field(default=None, title="review-by date")


class StageUpdate(Input):
    kind: ClassVar[str] = "stage"
    field_list: ClassVar[tuple[str, ...]] = STAGE_FIELDS
    name: Name = Field(default="", title="stage name")
    position: Position = Field(default=None, title="order")
    customer_goal: Text = Field(default="", title="customer goal")
    business_goal: Text = Field(default="", title="business goal")
    outcomes: Names = Field(default_factory=list, title="outcomes")
    revisitable: Flag = Field(default=False, title="revisitable")


class StageCreate(StageUpdate):
    name: Name = Field(title="stage name")


class TouchpointUpdate(Input):
    kind: ClassVar[str] = "touchpoint"
    field_list: ClassVar[tuple[str, ...]] = TOUCHPOINT_FIELDS
    stage_id: Id = Field(default=None, title="stage")
    name: Name = Field(default="", title="touchpoint name")
    position: Position = Field(default=None, title="order")
    channel: ShortText = Field(default="", title="channel")
    owner_team: ShortText = Field(default="", title="owner team")
    responsible: ShortText = Field(default="", title="responsible")
    accountable: ShortText = Field(default="", title="accountable")
    consulted: ShortText = Field(default="", title="consulted")
    informed: ShortText = Field(default="", title="informed")
    moment_of_truth: Flag = Field(default=False, title="moment of truth")
    activity_names: Names = Field(default_factory=list, title="activity names")

    @model_validator(mode="after")
    def _has_stage(self, info: ValidationInfo) -> TouchpointUpdate:
        if "stage_id" in self.model_fields_set and self.stage_id is None:
            raise BadInputError.invalid(_row(info, "stage"), None, "a stage of this map")
        return self


class TouchpointCreate(TouchpointUpdate):
    stage_id: Id = Field(title="stage")
    name: Name = Field(title="touchpoint name")


class _Placed(Input):
    """An item on a stage or one of its touchpoints (whole table rows: other columns are ignored)."""

    refuse_unknown: ClassVar[bool] = False
    stage_id: Id = Field(default=None, title="stage")
    touchpoint_id: Id = Field(default=None, title="touchpoint")


class PainPointInput(_Placed):
    kind: ClassVar[str] = "pain point"
    field_list: ClassVar[tuple[str, ...]] = PAIN_POINT_FIELDS
    persona_id: Id = Field(default=None, title="persona")
    description: RequiredText = Field(default="", title="description")
    severity: Score = Field(default=3, title="severity (1–5)")


class OpportunityInput(_Placed):
    kind: ClassVar[str] = "opportunity"
    field_list: ClassVar[tuple[str, ...]] = OPPORTUNITY_FIELDS
    description: RequiredText = Field(default="", title="description")
    effort: Score = Field(default=3, title="effort (1–5)")
    customer_value: Score = Field(default=3, title="customer value (1–5)")
    business_value: Score = Field(default=3, title="business value (1–5)")


class ActionInput(_Placed):
    kind: ClassVar[str] = "action"
    field_list: ClassVar[tuple[str, ...]] = ACTION_FIELDS
    metric_id: Id = Field(default=None, title="metric")
    action: RequiredText = Field(default="", title="action")
    owner: ShortText = Field(default="", title="owner")
    status: Annotated[str, _one_of(ActionStatus)] = Field(default=ActionStatus.OPEN.value, title="status")
    due_date: Day = Field(default=None, title="due date")
    expected_effect: Text = Field(default="", title="expected effect")

    @field_validator("status", mode="before")
    @classmethod
    def _blank_is_open(cls, value: Any) -> Any:
        return value if not _empty(value) else ActionStatus.OPEN.value


class LaneCellInput(Input):
    """One lane cell's values; the text is named after its lane (``cell 2: feeling``)."""

    kind: ClassVar[str] = "lane cell"
    lane: Annotated[str, _one_of(Lane)] = Field(title="lane")
    text: str | None = Field(default=None, title="text")
    emotion: Emotion = Field(default=None, title="emotion (−2..+2)")

    @field_validator("text", mode="before")
    @classmethod
    def _text_of_lane(cls, value: Any, info: ValidationInfo) -> str | None:
        return None if value is None else clean_text(value, _row(info, str(info.data.get("lane", "text"))))

    @model_validator(mode="after")
    def _emotion_on_feeling(self, info: ValidationInfo) -> LaneCellInput:
        if self.emotion is not None and self.lane != Lane.FEELING.value:
            raise BadInputError.invalid(
                _row(info, "emotion"), self.emotion, "an emotion score on the feeling lane only"
            )
        return self


class PersonaUpdate(Input):
    kind: ClassVar[str] = "persona"
    field_list: ClassVar[tuple[str, ...]] = PERSONA_FIELDS
    name: Name = Field(default="", title="persona name")
    description: Text = Field(default="", title="description")
    demographics: Text = Field(default="", title="demographics")
    job_title: ShortText = Field(default="", title="job title")
    company_size: ShortText = Field(default="", title="company size")
    industry: ShortText = Field(default="", title="industry")
    is_decision_maker: Flag = Field(default=False, title="decision maker")
    committee_role: Annotated[str | None, _one_of(CommitteeRole, allow_none=True)] = Field(
        default=None, title="committee role"
    )
    goals: Text = Field(default="", title="goals")
    pain_points: Text = Field(default="", title="pain points")
    buying_behaviour: Text = Field(default="", title="buying behaviour")
    channels: Text = Field(default="", title="channels")
    is_demo: bool = Field(default=False, title="demo")

    @field_validator("is_demo", mode="before")
    @classmethod
    def _truthy(cls, value: Any) -> bool:
        return bool(value)


class PersonaCreate(PersonaUpdate):
    name: Name = Field(title="persona name")


class MetricUpdate(Input):
    kind: ClassVar[str] = "metric"
    name: Name = Field(default="", title="metric name")
    target: Finite = Field(default=None, title="target")
    direction: str = Field(default=Direction.HIGHER.value, title="direction")
    unit: str = Field(default="", title="unit")
    stage_id: int | None = Field(default=None, title="stage")
    touchpoint_id: int | None = Field(default=None, title="touchpoint")
    dataset_id: int | None = Field(default=None, title="dataset")

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value: Any, info: ValidationInfo) -> str:
        if value not in {d.value for d in Direction}:
            raise BadInputError.invalid(label(info), value, "higher or lower")
        return str(value)

    @classmethod
    def unknown_field(cls) -> str:
        return "one of " + ", ".join(sorted(cls.model_fields))


# --------------------------------------------------------------------------- validating


def _row(info: ValidationInfo, title: str) -> str:
    row = (info.context or {}).get("row")
    return f"{row}: {title}" if row else title


M = TypeVar("M", bound=Input)


def validate(model: type[M], values: Mapping[str, Any], *, row: str | None = None) -> M:
    """``values`` checked and coerced by ``model``; ``row`` names the row in messages (``new stage 2``).

    Raises :class:`BadInputError` for the first bad value: a coercion's own message, a missing
    required field (``a non-empty name`` for names, ``a value`` otherwise) or an unknown field
    (naming the fields the item has). ``model_dump(exclude_unset=True)`` of the result holds only
    the fields given, for updates.
    """
    unknown = [key for key in values if key not in model.model_fields]
    if unknown and model.refuse_unknown:
        raise BadInputError.invalid(unknown[0], values[unknown[0]], model.unknown_field())
    try:
        return model.model_validate(
            {k: v for k, v in values.items() if k in model.model_fields}, context={"model": model, "row": row}
        )
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        field = model.model_fields.get(name)
        title = (field.title if field is not None else None) or name.replace("_", " ")
        where = f"{row}: {title}" if row else title
        if error["type"] == "missing":
            expected = "a non-empty name" if name == "name" else "a value"
            raise BadInputError.invalid(where, None, expected) from None
        raise BadInputError.invalid(where, error.get("input"), str(error["msg"])) from None


def given(model: Input) -> dict[str, Any]:
    """The fields of ``model`` that were given (the changes of an update)."""
    return model.model_dump(exclude_unset=True)


def clean_map_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The map's own fields given in ``changes``, checked (:class:`MapUpdate`)."""
    return given(validate(MapUpdate, changes))


def clean_persona_fields(values: Mapping[str, Any], *, new: bool) -> dict[str, Any]:
    """A persona's fields given in ``values`` (``id`` ignored), checked (:class:`PersonaCreate` when ``new``)."""
    model = PersonaCreate if new else PersonaUpdate
    return given(validate(model, {k: v for k, v in values.items() if k != "id"}))
