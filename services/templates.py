"""Journey map templates from the practice JourneyLens serves (PRODUCT.md, "Templates").

A template is plain data: stages (with goals, outcomes, revisit flag) and their touchpoints
(channel, owner team), plus suggested committee roles. ``services.maps.create_map_from_template``
turns one into a stored map.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from core.errors import UnknownNameError


@dataclass(frozen=True)
class TouchpointTemplate:
    name: str
    channel: str = ""
    owner_team: str = ""
    moment_of_truth: bool = False


@dataclass(frozen=True)
class StageTemplate:
    name: str
    customer_goal: str = ""
    business_goal: str = ""
    touchpoints: tuple[TouchpointTemplate, ...] = ()
    outcomes: tuple[str, ...] = ()
    revisitable: bool = False


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    stages: tuple[StageTemplate, ...]
    committee_roles: tuple[str, ...] = ()
    lanes: tuple[str, ...] = ("thinking", "doing", "feeling")
    extra: dict[str, str] = field(default_factory=dict)


def _tp(name: str, channel: str, team: str, mot: bool = False) -> TouchpointTemplate:
    return TouchpointTemplate(name=name, channel=channel, owner_team=team, moment_of_truth=mot)


def _stage(
    name: str,
    *touchpoints: TouchpointTemplate,
    customer: str = "",
    business: str = "",
    outcomes: tuple[str, ...] = (),
    revisitable: bool = False,
) -> StageTemplate:
    return StageTemplate(
        name=name,
        customer_goal=customer,
        business_goal=business,
        touchpoints=tuple(touchpoints),
        outcomes=outcomes,
        revisitable=revisitable,
    )


ALL_COMMITTEE_ROLES = (
    "decision maker",
    "champion",
    "influencer",
    "user/practitioner",
    "technical evaluator",
    "procurement",
    "executive sponsor",
)

TEMPLATES: dict[str, Template] = {}


def _register(t: Template) -> None:
    TEMPLATES[t.key] = t


_register(
    Template(
        key="b2b-5-stage",
        name="Simple 5-stage B2B",
        description="Awareness, Consideration, Conversion, Service, Advocacy with the common touchpoints.",
        stages=(
            _stage(
                "Awareness",
                _tp("Blog", "web", "Marketing"),
                _tp("Social", "social", "Marketing"),
                _tp("Online ads", "ads", "Marketing"),
                _tp("Search", "web", "Marketing"),
                customer="Understand the problem and who solves it",
                business="Be found and remembered",
            ),
            _stage(
                "Consideration",
                _tp("Case studies", "web", "Marketing"),
                _tp("Testimonials", "web", "Marketing"),
                _tp("Review sites", "web", "Marketing"),
                _tp("Demo", "demo", "Sales", True),
                _tp("Product pages", "web", "Product marketing"),
                customer="Shortlist vendors that fit",
                business="Prove fit and earn a demo",
            ),
            _stage(
                "Conversion",
                _tp("Pricing page", "web", "Product marketing", True),
                _tp("Newsletter", "email", "Marketing"),
                _tp("Sales rep", "sales rep", "Sales", True),
                _tp("Store", "web", "Sales"),
                customer="Buy with confidence",
                business="Close the deal",
            ),
            _stage(
                "Service",
                _tp("Help centre", "help centre", "Support"),
                _tp("Support agent", "phone", "Support", True),
                _tp("Chatbot", "chat", "Support"),
                _tp("Live chat", "chat", "Support"),
                _tp("Email support", "email", "Support"),
                customer="Get value and get help fast",
                business="Resolve on first contact",
            ),
            _stage(
                "Advocacy",
                _tp("Upsell", "sales rep", "Customer success"),
                _tp("Transactional email", "email", "Product"),
                _tp("Renewal page", "web", "Customer success", True),
                customer="Renew and recommend",
                business="Expand, renew, earn referrals",
            ),
        ),
    )
)

_register(
    Template(
        key="lifecycle-7-stage",
        name="7-stage lifecycle",
        description="Awareness, Research, Decision, Onboarding, Usage, Support, Renewal.",
        stages=(
            _stage("Awareness", _tp("Search", "web", "Marketing"), _tp("Social", "social", "Marketing")),
            _stage("Research", _tp("Product pages", "web", "Product marketing"), _tp("Webinar", "events", "Marketing")),
            _stage("Decision", _tp("Demo", "demo", "Sales", True), _tp("Proposal", "sales rep", "Sales", True)),
            _stage(
                "Onboarding",
                _tp("Kick-off call", "phone", "Customer success", True),
                _tp("Setup guide", "help centre", "Customer success"),
            ),
            _stage("Usage", _tp("In-app guidance", "web", "Product"), _tp("Usage report", "email", "Product")),
            _stage("Support", _tp("Ticket", "help centre", "Support"), _tp("Live chat", "chat", "Support")),
            _stage(
                "Renewal",
                _tp("Renewal review", "sales rep", "Customer success", True),
                _tp("Renewal page", "web", "Customer success"),
            ),
        ),
    )
)

_register(
    Template(
        key="b2b-4-stage",
        name="4-stage",
        description="Awareness, Consideration, Decision, Retention.",
        stages=(
            _stage("Awareness", _tp("Online ads", "ads", "Marketing"), _tp("Blog", "web", "Marketing")),
            _stage("Consideration", _tp("Case studies", "web", "Marketing"), _tp("Demo", "demo", "Sales", True)),
            _stage(
                "Decision",
                _tp("Pricing page", "web", "Product marketing"),
                _tp("Sales rep", "sales rep", "Sales", True),
            ),
            _stage(
                "Retention",
                _tp("Help centre", "help centre", "Support"),
                _tp("Renewal page", "web", "Customer success", True),
            ),
        ),
    )
)

_register(
    Template(
        key="b2b-6-stage",
        name="6-stage",
        description="Discovery, Evaluation, Purchase, Usage, Engagement, Advocacy.",
        stages=(
            _stage("Discovery", _tp("Search", "web", "Marketing"), _tp("Events", "events", "Marketing")),
            _stage("Evaluation", _tp("Free trial", "web", "Product", True), _tp("Review sites", "web", "Marketing")),
            _stage("Purchase", _tp("Sales rep", "sales rep", "Sales", True), _tp("Contract", "email", "Legal")),
            _stage("Usage", _tp("Onboarding", "web", "Customer success"), _tp("Help centre", "help centre", "Support")),
            _stage("Engagement", _tp("Newsletter", "email", "Marketing"), _tp("Community", "community", "Community")),
            _stage(
                "Advocacy",
                _tp("Referral programme", "email", "Marketing"),
                _tp("Case study interview", "phone", "Marketing"),
            ),
        ),
    )
)

_register(
    Template(
        key="comparison-5-stage",
        name="Comparison-heavy 5-stage",
        description="Awareness, Consideration, Comparison & Evaluation, Purchase, Loyalty.",
        stages=(
            _stage("Awareness", _tp("Search", "web", "Marketing"), _tp("Online ads", "ads", "Marketing")),
            _stage(
                "Consideration",
                _tp("Product pages", "web", "Product marketing"),
                _tp("Newsletter", "email", "Marketing"),
            ),
            _stage(
                "Comparison & Evaluation",
                _tp("Comparison page", "web", "Product marketing", True),
                _tp("Review sites", "web", "Marketing"),
                _tp("Analyst report", "web", "Marketing"),
            ),
            _stage(
                "Purchase",
                _tp("Pricing page", "web", "Product marketing", True),
                _tp("Sales rep", "sales rep", "Sales"),
            ),
            _stage(
                "Loyalty",
                _tp("Loyalty programme", "email", "Customer success"),
                _tp("Support agent", "phone", "Support"),
            ),
        ),
    )
)

_register(
    Template(
        key="buying-committee",
        name="B2B buying-committee map",
        description="Awareness, Consideration, Decision, Loyalty & Advocacy, one persona per committee role.",
        stages=(
            _stage(
                "Awareness",
                _tp("Industry event", "events", "Marketing"),
                _tp("Analyst report", "web", "Marketing"),
                customer="Name the problem",
                business="Reach every committee member",
            ),
            _stage(
                "Consideration",
                _tp("Technical whitepaper", "web", "Product marketing"),
                _tp("Demo", "demo", "Sales", True),
                _tp("Security review", "email", "Security", True),
                customer="Build the business case",
                business="Arm the champion",
            ),
            _stage(
                "Decision",
                _tp("Proposal", "sales rep", "Sales", True),
                _tp("Procurement call", "phone", "Sales"),
                _tp("Reference call", "phone", "Customer success"),
                customer="Agree as a committee",
                business="Close with every role on board",
            ),
            _stage(
                "Loyalty & Advocacy",
                _tp("Quarterly business review", "sales rep", "Customer success", True),
                _tp("Customer community", "community", "Community"),
                customer="See the promised value",
                business="Renew, expand, earn references",
            ),
        ),
        committee_roles=ALL_COMMITTEE_ROLES,
        lanes=("thinking", "doing", "your goal"),
    )
)

_register(
    Template(
        key="professional-services",
        name="Professional services client lifecycle",
        description="Pre-client, Client engagement, Between engagements, Former client.",
        stages=(
            _stage(
                "Pre-client",
                _tp("Referral", "phone", "Partners"),
                _tp("Website", "web", "Marketing"),
                _tp("Discovery call", "phone", "Partners", True),
                _tp("Proposal", "email", "Partners", True),
                outcomes=("hired", "not now", "no way"),
                customer="Find an adviser they trust",
                business="Win the engagement",
            ),
            _stage(
                "Client engagement",
                _tp("Kick-off", "events", "Delivery", True),
                _tp("Status report", "email", "Delivery"),
                _tp("Final presentation", "events", "Delivery", True),
                customer="Get the outcome promised",
                business="Deliver on time and budget",
            ),
            _stage(
                "Between engagements",
                _tp("Newsletter", "email", "Marketing"),
                _tp("Check-in call", "phone", "Partners"),
                customer="Stay informed",
                business="Stay front of mind",
            ),
            _stage(
                "Former client",
                _tp("Alumni event", "events", "Marketing"),
                _tp("Referral request", "email", "Partners"),
                outcomes=("good experience", "bad experience"),
                customer="Recommend or move on",
                business="Earn referrals",
            ),
        ),
    )
)

_register(
    Template(
        key="non-linear",
        name="Non-linear journey",
        description="Stages buyers revisit, drawn with their loops.",
        stages=(
            _stage("Explore", _tp("Search", "web", "Marketing"), _tp("Blog", "web", "Marketing"), revisitable=True),
            _stage(
                "Evaluate", _tp("Demo", "demo", "Sales", True), _tp("Free trial", "web", "Product"), revisitable=True
            ),
            _stage(
                "Validate",
                _tp("Review sites", "web", "Marketing"),
                _tp("Reference call", "phone", "Sales"),
                revisitable=True,
            ),
            _stage("Buy", _tp("Pricing page", "web", "Product marketing"), _tp("Contract", "email", "Legal", True)),
        ),
    )
)

_register(
    Template(
        key="ownership",
        name="Touchpoint ownership map",
        description="Stages × touchpoints × owning team.",
        stages=(
            _stage("Attract", _tp("Website", "web", "Marketing"), _tp("Events", "events", "Marketing")),
            _stage("Sell", _tp("Demo", "demo", "Sales"), _tp("Proposal", "sales rep", "Sales")),
            _stage("Onboard", _tp("Kick-off", "phone", "Customer success"), _tp("Training", "events", "Enablement")),
            _stage("Support", _tp("Help centre", "help centre", "Support"), _tp("Support agent", "phone", "Support")),
            _stage(
                "Grow",
                _tp("Account review", "sales rep", "Account management"),
                _tp("Renewal page", "web", "Customer success"),
            ),
        ),
    )
)


def list_templates() -> list[Template]:
    return list(TEMPLATES.values())


def get_template(key: str) -> Template:
    """The template ``key``; an unknown key is refused with the nearest real keys."""
    if key not in TEMPLATES:
        nearest = difflib.get_close_matches(key, TEMPLATES, n=3, cutoff=0.5)
        known = ", ".join(TEMPLATES)
        raise UnknownNameError("template", key, nearest, message=f"unknown template {key!r}; known templates: {known}")
    return TEMPLATES[key]
