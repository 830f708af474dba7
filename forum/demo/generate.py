"""Build the whole demo content in memory, the same every time (fixed seeds and a fixed base date)."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from . import oneoffs as oo
from . import phrases as ph
from .catalog import PRODUCT_BY_KEY, PRODUCTS, SPACES, build_deployments, version_as_of
from .compose import (
    Clock,
    World,
    add_votes,
    deployment_context,
    fill,
    pick_variables,
    problem_replies,
    question_body,
)
from .people import build_engagements, build_orgs, build_users
from .problems import PROBLEMS
from .spec import DemoContent, DeploymentSpec, Problem, ReplySpec, ThreadSpec, UserSpec
from .subjects import SUBJECTS

SEED = 20261101
# Content dates spread over the year before this day; "now" is never used, so every run is identical.
BASE_DATE = datetime(2026, 11, 1, 9, 0)
ONE_OFF_COUNT = 230
INTERNAL_COUNT = 24


def _rng(name: str) -> random.Random:
    # One generator per stream, so changing one part of the content does not reshuffle the others.
    return random.Random(f"groundwork-demo-{SEED}-{name}")


def thread_time(rng: random.Random, earliest_days: int = 365, latest_days: int = 12) -> datetime:
    day = BASE_DATE - timedelta(days=rng.randint(latest_days, earliest_days))
    return day.replace(hour=rng.randint(6, 19), minute=rng.randint(0, 59), second=rng.randint(0, 59))


def generate() -> DemoContent:
    """Everything the seed command inserts, as plain specs."""
    orgs = build_orgs()
    users = build_users(_rng("users"), orgs)
    deployments = build_deployments(_rng("deployments"), orgs)
    engagements = build_engagements(_rng("engagements"))
    world = _world(orgs, users, deployments, engagements)
    threads: list[ThreadSpec] = []
    for problem in PROBLEMS:
        threads += planted_threads(problem, world, deployments)
    threads += one_off_threads(world, deployments)
    threads += discussion_threads(world)
    threads += announcement_threads(world)
    threads += internal_threads(world, deployments)
    return DemoContent(orgs, users, list(PRODUCTS), deployments, engagements, list(SPACES), threads)


def _world(orgs, users, deployments, engagements) -> World:
    by_slug = {o.slug: o for o in orgs}
    customers: dict[str, list[UserSpec]] = defaultdict(list)
    partners: dict[str, list[UserSpec]] = defaultdict(list)
    employees: list[UserSpec] = []
    for user in users:
        kind = by_slug[user.org_slug].kind
        if kind == "customer":
            customers[user.org_slug].append(user)
        elif kind == "partner":
            partners[user.org_slug].append(user)
        else:
            employees.append(user)
    engaged: dict[str, list[str]] = defaultdict(list)
    for partner, customer in engagements:
        engaged[customer].append(partner)
    deps: dict[str, list[DeploymentSpec]] = defaultdict(list)
    for dep in deployments:
        deps[dep.org_slug].append(dep)
    return World(by_slug, dict(customers), dict(partners), employees, dict(engaged), dict(deps))


def _spread_over_orgs(rng: random.Random, candidates: list[DeploymentSpec]) -> list[DeploymentSpec]:
    """Order deployments so that consecutive picks come from as many different organisations as possible."""
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    by_org: dict[str, list[DeploymentSpec]] = defaultdict(list)
    for dep in shuffled:
        by_org[dep.org_slug].append(dep)
    ordered: list[DeploymentSpec] = []
    while by_org:
        for slug in list(by_org):
            ordered.append(by_org[slug].pop(0))
            if not by_org[slug]:
                del by_org[slug]
    return ordered


def _personal(rng: random.Random, user: UserSpec) -> dict:
    return {"first": user.first_name, "full": user.display_name, "case": f"CS-{rng.randint(100000, 999999)}",
            "ticket": f"ENG-{rng.randint(2000, 9999)}"}


def planted_threads(problem: Problem, world: World, deployments: list[DeploymentSpec]) -> list[ThreadSpec]:
    """The threads of one recurring problem, asked by many customers in many different ways."""
    rng = _rng(problem.key)
    candidates = [d for d in deployments if problem.fits(d)]
    ordered = _spread_over_orgs(rng, candidates)
    threads: list[ThreadSpec] = []
    used_titles: set[str] = set()
    used_bodies: set[str] = set()
    for i in range(problem.count):
        dep = ordered[i % len(ordered)]
        asker = rng.choice(world.customers[dep.org_slug])
        created = thread_time(rng, earliest_days=problem.recent_days or 365)
        version = version_as_of(dep.product_key, dep.version, created.date())
        ctx = {**deployment_context(dep, version, world.orgs[dep.org_slug]), **pick_variables(rng, problem),
               **_personal(rng, asker)}
        title = fill(rng.choice(problem.titles), ctx)
        for _ in range(4):  # prefer a title not used yet for this problem
            if title not in used_titles:
                break
            title = fill(rng.choice(problem.titles), ctx)
        used_titles.add(title)
        title = title[0].upper() + title[1:]
        attach = rng.random() < 0.85
        thread = ThreadSpec(
            external_id=f"demo-{problem.key}-{i + 1:04d}", space_slug=problem.space, author_email=asker.email,
            org_slug=dep.org_slug, title=title, body_md=_fresh_body(rng, problem, ctx, used_bodies), kind="question",
            visibility="org_private" if rng.random() < 0.1 else "public", created_at=created,
            tags=problem.tags + ((PRODUCT_BY_KEY[dep.product_key].slug,) if rng.random() < 0.3 else ()),
            deployment_key=dep.key if attach else None, snapshot_version=version if attach else None,
            problem_key=problem.key)
        others = [d for d in candidates if d.org_slug != dep.org_slug]
        rng.shuffle(others)
        confirmers = [(rng.choice(world.customers[d.org_slug]), d) for d in others[:6]]
        problem_replies(rng, world, problem, thread, ctx, asker, confirmers)
        _maybe_edited(rng, thread)
        threads.append(thread)
    return threads


def _maybe_edited(rng: random.Random, thread: ThreadSpec) -> None:
    """Now and then the asker posted a shorter first version and added the details minutes later."""
    paragraphs = thread.body_md.split("\n\n")
    if len(paragraphs) < 4 or rng.random() > 0.08:
        return
    first_reply = min((r.created_at for r in thread.replies), default=None)
    edited = thread.created_at + timedelta(minutes=rng.randint(4, 40))
    if first_reply is None or edited < first_reply:
        thread.previous_body = "\n\n".join(paragraphs[: len(paragraphs) - 2])
        thread.edited_at = edited


def _fresh_body(rng: random.Random, problem: Problem, ctx: dict, used: set[str]) -> str:
    """A question body no earlier thread of this problem has word for word (short ones can collide)."""
    body = question_body(rng, problem, ctx)
    while body in used:
        body = question_body(rng, problem, ctx)
    used.add(body)
    return body


def one_off_threads(world: World, deployments: list[DeploymentSpec]) -> list[ThreadSpec]:
    """Many different questions, each asked once: the background a miner should not group."""
    rng = _rng("one-offs")
    pairs = [(s, f) for s in range(len(SUBJECTS)) for f in range(len(oo.FORMS))]
    rng.shuffle(pairs)
    per_subject: Counter = Counter()
    chosen = []
    for s, f in pairs:  # at most three questions per subject, so no subject turns into a pattern
        if len(chosen) < ONE_OFF_COUNT and per_subject[s] < 3:
            per_subject[s] += 1
            chosen.append((s, f))
    threads: list[ThreadSpec] = []
    for n, (s, f) in enumerate(chosen):
        space, product_key, subject, goal, answer = SUBJECTS[s]
        title_t, body_t, answer_t = oo.FORMS[f]
        fitting = [d for d in deployments if d.product_key == product_key] or deployments
        dep = rng.choice(fitting)
        created = thread_time(rng)
        version = version_as_of(dep.product_key, dep.version, created.date())
        if rng.random() < 0.12:
            firm = rng.choice(sorted(world.partners))
            asker, org_slug, attach = rng.choice(world.partners[firm]), firm, False
        else:
            asker, org_slug, attach = rng.choice(world.customers[dep.org_slug]), dep.org_slug, rng.random() < 0.7
        ctx = {**deployment_context(dep, version, world.orgs[dep.org_slug]), **_personal(rng, asker),
               "s": subject, "S": subject[0].upper() + subject[1:], "goal": goal, "answer": answer,
               "integration": rng.choice(dep.integrations or ("Salesforce", "Workday", "ServiceNow"))}
        body = fill(body_t, ctx)
        if rng.random() < 0.4:
            body = fill(rng.choice(ph.GREETINGS[3:]), ctx) + "\n\n" + body
        if rng.random() < 0.3:
            body += "\n\n" + fill(rng.choice(ph.ENVIRONMENTS), ctx)
        thread = ThreadSpec(
            external_id=f"demo-x-{n + 1:04d}", space_slug=space, author_email=asker.email, org_slug=org_slug,
            title=fill(title_t, ctx), body_md=body, kind="question",
            visibility="org_private" if org_slug == dep.org_slug and rng.random() < 0.1 else "public",
            created_at=created, tags=(PRODUCT_BY_KEY[product_key].slug,) if rng.random() < 0.5 else (),
            deployment_key=dep.key if attach else None, snapshot_version=version if attach else None)
        _one_off_replies(rng, world, thread, ctx, asker, answer_t)
        threads.append(thread)
    return threads


def _one_off_replies(rng: random.Random, world: World, thread: ThreadSpec, ctx: dict, asker: UserSpec,
                     answer_t: str) -> None:
    clock = Clock(rng, thread.created_at)
    if rng.random() < 0.1:
        thread.needs_staff = rng.random() < 0.3
        return
    if rng.random() < 0.2:
        replies_by = world.answerer(rng, thread, 0.4)
        thread.replies.append(ReplySpec(replies_by.email, rng.choice(ph.ONE_OFF_CLARIFY), clock.tick()))
    helper = (world.other_customer(rng, thread) if rng.random() < 0.25 else None) or world.answerer(rng, thread)
    answer = ReplySpec(helper.email, fill(answer_t, ctx), clock.tick(slow=rng.random() < 0.3))
    thread.replies.append(answer)
    add_votes(rng, world, thread, answer, rng.randint(0, 5))
    if rng.random() < 0.03:
        stray = world.other_customer(rng, thread)
        if stray is not None:
            moderator = next(u for u in world.employees if u.is_moderator)
            thread.replies.append(ReplySpec(stray.email, "Wrong thread, sorry — please delete.", clock.tick(),
                                            deleted_by_email=moderator.email))
    if rng.random() < 0.05:
        thread.replies.append(ReplySpec(rng.choice(world.employees).email, fill(rng.choice(ph.STAFF_NOTES), ctx),
                                        clock.tick(), is_staff_note=True))
    if rng.random() < 0.5:
        thread.replies.append(ReplySpec(asker.email, rng.choice(ph.THANKS_ACCEPTED), clock.tick()))
        if rng.random() < 0.8 and asker.org_slug in world.customers:
            thread.accepted_index = thread.replies.index(answer)
            thread.resolved_at = thread.replies[-1].created_at + timedelta(minutes=1)


def discussion_threads(world: World) -> list[ThreadSpec]:
    rng = _rng("discussions")
    threads: list[ThreadSpec] = []
    people = [u for org in sorted(world.customers) for u in world.customers[org]]
    for n, (title, body) in enumerate(oo.DISCUSSIONS):
        author = rng.choice(people + world.employees[:4])
        org_slug = author.org_slug
        thread = ThreadSpec(f"demo-d-{n + 1:04d}", "general", author.email, org_slug, title, body, "discussion",
                            "public", thread_time(rng))
        clock = Clock(rng, thread.created_at)
        for template in rng.sample(oo.DISCUSSION_REPLIES, rng.randint(2, 7)):
            who = rng.choice(people + [u for firm in sorted(world.partners) for u in world.partners[firm]])
            text = fill(template, {"cadence": rng.choice(oo.CADENCES), "size": rng.choice((80, 400, 2500))})
            reply = ReplySpec(who.email, text, clock.tick(slow=True))
            thread.replies.append(reply)
            add_votes(rng, world, thread, reply, rng.randint(0, 4))
        threads.append(thread)
    return threads


HIGHLIGHTS = {
    "ledger": ("faster period close", "a new bank reconciliation screen", "SCIM provisioning",
               "XOAUTH2 for outgoing mail", "restartable migration steps", "scheduler lock leases",
               "Peppol e-invoicing", "field-level audit export"),
    "bridge": ("TLS 1.3 for all connectors", "a new mapping designer", "credential reload without restart",
               "Kafka exactly-once delivery", "queue age alerts"),
    "lens": ("incremental refresh with time zones", "mobile layouts", "row-level security by role",
             "asynchronous exports", "a faster cube engine"),
}


def announcement_threads(world: World) -> list[ThreadSpec]:
    """A release announcement per version, dated on its release day."""
    rng = _rng("announcements")
    release_manager = next(u for u in world.employees if u.email.startswith("ruth."))
    threads: list[ThreadSpec] = []
    for product in PRODUCTS:
        for version, released in product.versions:
            highlights = rng.sample(HIGHLIGHTS[product.key], 3)
            body = (f"{product.name} {version} is generally available.\n\n## Highlights\n\n"
                    + "\n".join(f"- {h[0].upper()}{h[1:]}" for h in highlights)
                    + "\n\nRelease notes and upgrade guides are in the documentation portal. Questions about "
                    "upgrading are welcome in *Installation & upgrades*.")
            created = datetime.combine(released, datetime.min.time()).replace(hour=8)
            threads.append(ThreadSpec(f"demo-a-{len(threads) + 1:04d}", "announcements", release_manager.email,
                                      release_manager.org_slug, f"{product.name} {version} released", body,
                                      "announcement", "public", created, tags=("release", product.slug)))
    return threads


def internal_threads(world: World, deployments: list[DeploymentSpec]) -> list[ThreadSpec]:
    """Staff-room conversations that only employees see."""
    rng = _rng("internal")
    threads: list[ThreadSpec] = []
    titles: set[str] = set()
    for n in range(INTERNAL_COUNT):
        title_t, body_t = oo.INTERNAL[n % len(oo.INTERNAL)]
        author = rng.choice(world.employees)
        title = ""
        while not title or title in titles:
            dep = rng.choice(deployments)
            ctx = {"org": world.orgs[dep.org_slug].name, "version": dep.version, "db": dep.database}
            created = thread_time(rng)
            title = fill(title_t, ctx)
            if "{" not in title_t:  # recurring staff chores: tell the rounds apart by quarter
                title += f" (Q{(created.month - 1) // 3 + 1} {created.year})"
        titles.add(title)
        thread = ThreadSpec(f"demo-i-{n + 1:04d}", "staff-room", author.email, author.org_slug,
                            title, fill(body_t, ctx), "discussion", "internal", created)
        clock = Clock(rng, thread.created_at)
        for _ in range(rng.randint(0, 4)):
            who = rng.choice([u for u in world.employees if u.email != author.email])
            thread.replies.append(ReplySpec(who.email, rng.choice(oo.INTERNAL_REPLIES), clock.tick()))
        threads.append(thread)
    return threads
