"""Composing varied demo threads from independent slots with a seeded random generator."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import phrases as ph
from .catalog import PRODUCT_BY_KEY, previous_version
from .spec import ConfirmationSpec, DeploymentSpec, OrgSpec, Problem, ReplySpec, ThreadSpec, UserSpec

HOSTING_TEXT = {"on_premises": "on-premises", "cloud": "cloud", "hybrid": "hybrid"}


@dataclass
class World:
    """Who exists, and who may see what: the pools every composer draws authors from."""

    orgs: dict[str, OrgSpec]
    customers: dict[str, list[UserSpec]]  # by org slug
    partners: dict[str, list[UserSpec]]  # by firm slug
    employees: list[UserSpec]
    engaged: dict[str, list[str]]  # customer slug -> partner firm slugs
    deployments: dict[str, list[DeploymentSpec]] = field(default_factory=dict)

    def partner_for(self, rng: random.Random, thread: ThreadSpec) -> UserSpec:
        """A partner consultant allowed to see the thread (an engaged one for org-private threads)."""
        if thread.visibility == "org_private":
            firms = self.engaged.get(thread.org_slug) or sorted(self.partners)
        else:
            firms = sorted(self.partners)
        return rng.choice(self.partners[rng.choice(firms)])

    def other_customer(self, rng: random.Random, thread: ThreadSpec) -> UserSpec | None:
        """A customer from another organisation, for public threads only."""
        if thread.visibility != "public":
            return None
        org = rng.choice([slug for slug in sorted(self.customers) if slug != thread.org_slug])
        return rng.choice(self.customers[org])

    def answerer(self, rng: random.Random, thread: ThreadSpec, employee_share: float = 0.45) -> UserSpec:
        if thread.visibility == "internal" or rng.random() < employee_share:
            return rng.choice(self.employees)
        return self.partner_for(rng, thread)

    def voter_pool(self, thread: ThreadSpec) -> list[UserSpec]:
        pool = list(self.employees)
        if thread.visibility == "internal":
            return pool
        pool += self.customers.get(thread.org_slug, [])
        firms = self.engaged.get(thread.org_slug, []) if thread.visibility == "org_private" else sorted(self.partners)
        for firm in firms:
            pool += self.partners[firm]
        if thread.visibility == "public":
            for slug in sorted(self.customers)[::3]:
                pool += self.customers[slug][:1]
        return pool


def fill(template: str, ctx: dict) -> str:
    return template.format_map(ctx)


def deployment_context(dep: DeploymentSpec, version: str, org: OrgSpec) -> dict:
    return {
        "product": PRODUCT_BY_KEY[dep.product_key].name, "version": version,
        "prev": previous_version(dep.product_key, version), "db": dep.database, "os": dep.operating_system,
        "topology": dep.topology, "hosting": HOSTING_TEXT[dep.hosting], "size": dep.size_users,
        "env": dep.environment, "industry": org.description.removeprefix("Customer in ").rstrip("."),
    }


def pick_variables(rng: random.Random, problem: Problem) -> dict:
    chosen: dict = {}
    for key, values in problem.variables.items():
        value = rng.choice(values)
        if "," in key:  # linked variables, e.g. a word and its corrupted form
            chosen.update(zip(key.split(","), value, strict=True))
        else:
            chosen[key] = value
    return chosen


def question_body(rng: random.Random, problem: Problem, ctx: dict) -> str:
    """One question in one of several shapes: a one-liner, a medium post or a long post with logs."""
    shape = rng.choices(("short", "medium", "long", "bullets"), weights=(20, 40, 28, 12))[0]
    symptoms = rng.sample(problem.symptoms, min(len(problem.symptoms), 2))
    error = rng.choice(problem.errors)
    ask = rng.choice(ph.ASKS)
    if shape == "short":
        parts = [symptoms[0]] + ([error] if rng.random() < 0.4 else []) + ([ask] if rng.random() < 0.5 else [])
        return fill("\n\n".join(parts), ctx)
    parts: list[str] = []
    greeting = rng.choice(ph.GREETINGS)
    if greeting:
        parts.append(greeting)
    if shape == "long" or rng.random() < 0.3:
        parts.append(rng.choice(ph.OPENINGS))
    if shape == "bullets":
        parts.append("What we see:\n\n" + "\n".join(f"- {s}" for s in symptoms))
    else:
        parts.append(" ".join(symptoms[: 1 + (shape == "long" or rng.random() < 0.4)]))
    if shape == "long" or rng.random() < 0.55:
        parts.insert(len(parts) - (rng.random() < 0.25), error)
    if rng.random() < (0.8 if shape == "long" else 0.45):
        parts.append(rng.choice(ph.ENVIRONMENTS))
    if problem.tried and rng.random() < (0.8 if shape == "long" else 0.35):
        tried = rng.sample(problem.tried, min(len(problem.tried), 1 + (shape == "long")))
        lead = rng.choice(("What we tried so far:", "Already tried:", "", "Things we checked:"))
        parts.append((lead + "\n\n" + "\n".join(f"- {t}" for t in tried)) if lead else " ".join(tried))
    parts.append(ask)
    signoff = rng.choice(ph.SIGNOFFS)
    if signoff and not (signoff.startswith("Thank") and "Thank" in ask):
        parts.append(signoff)
    return fill("\n\n".join(parts), ctx)


class Clock:
    """Reply times after a thread's creation: minutes to days apart, always moving forward."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng, self.now = rng, start

    def tick(self, slow: bool = False) -> datetime:
        minutes = self.rng.randint(180, 60 * 72) if slow else self.rng.randint(12, 60 * 20)
        self.now += timedelta(minutes=minutes)
        return self.now


def problem_replies(rng: random.Random, world: World, problem: Problem, thread: ThreadSpec, ctx: dict,
                    asker: UserSpec, confirmers: list[tuple[UserSpec, DeploymentSpec]]) -> None:
    """Replies, staff notes, votes, the accepted answer and confirmations for one planted thread."""
    clock = Clock(rng, thread.created_at)
    replies = thread.replies
    roll = rng.random()
    if roll < 0.07:  # nobody answered (yet)
        thread.needs_staff = rng.random() < 0.4
        return
    if rng.random() < 0.4:
        question, answers = rng.choice(ph.CLARIFY)
        replies.append(ReplySpec(world.answerer(rng, thread, 0.5).email, fill(question, ctx), clock.tick()))
        if rng.random() < 0.7:
            replies.append(ReplySpec(asker.email, fill(rng.choice(answers), ctx), clock.tick()))
    if rng.random() < 0.3:
        hint = rng.choice(problem.hints + ph.GENERIC_HINTS)
        helper = world.other_customer(rng, thread) or world.partner_for(rng, thread)
        replies.append(ReplySpec(helper.email, fill(hint, ctx), clock.tick()))
    same = world.other_customer(rng, thread)
    if same is not None and rng.random() < 0.2:
        other = _context_of(world, same, ctx)
        replies.append(ReplySpec(same.email, fill(rng.choice(ph.SAME_HERE), other), clock.tick()))
    if roll < 0.15:  # asked for vendor help, still waiting
        thread.needs_staff = True
        if rng.random() < 0.5:
            replies.append(ReplySpec(rng.choice(world.employees).email, fill(rng.choice(ph.STAFF_NOTES), ctx),
                                     clock.tick(), is_staff_note=True))
        return
    fixer = world.answerer(rng, thread)
    ctx = dict(ctx, fixer_first=fixer.first_name, asker_first=asker.first_name)
    body = fill(rng.choice(ph.FIX_INTROS) + rng.choice(problem.fixes) + "\n\n" + rng.choice(ph.FIX_OUTROS), ctx)
    fix = ReplySpec(fixer.email, body.strip(), clock.tick(slow=rng.random() < 0.3))
    replies.append(fix)
    add_votes(rng, world, thread, fix, rng.randint(1, 9))
    for reply in replies[:-1]:
        if rng.random() < 0.25:
            add_votes(rng, world, thread, reply, 1, down=rng.random() < 0.3)
    if rng.random() < 0.15:
        replies.append(ReplySpec(rng.choice(world.employees).email, fill(rng.choice(ph.STAFF_NOTES), ctx),
                                 clock.tick(), is_staff_note=True))
    if roll < 0.3:  # answered, never confirmed by the asker
        return
    if rng.random() < 0.8:
        replies.append(ReplySpec(asker.email, fill(rng.choice(ph.FOLLOWUPS), ctx), clock.tick()))
    thread.accepted_index = replies.index(fix)
    thread.resolved_at = clock.tick() if rng.random() < 0.3 else replies[-1].created_at + timedelta(minutes=2)
    if thread.visibility == "public":
        chosen = confirmers[: rng.choice((0, 1, 1, 2, 3, 4))]
        notes = rng.sample(ph.WORKED_TOO, len(ph.WORKED_TOO))
        for (user, dep), note in zip(chosen, notes, strict=False):
            when = clock.tick(slow=True)
            other = _context_of(world, user, ctx, dep)
            thread.confirmations.append(
                ConfirmationSpec(user.email, dep.key, fill(rng.choice(ph.CONFIRM_NOTES), other), when))
            if rng.random() < 0.35:
                replies.append(ReplySpec(user.email, fill(note, other), when))


def _context_of(world: World, user: UserSpec, ctx: dict, dep: DeploymentSpec | None = None) -> dict:
    deps = world.deployments.get(user.org_slug) or []
    dep = dep or (deps[0] if deps else None)
    if dep is None:
        return dict(ctx, cversion=ctx["version"], cdb=ctx["db"], ctopology=ctx["topology"])
    return dict(ctx, cversion=dep.version, cdb=dep.database, ctopology=dep.topology)


def add_votes(rng: random.Random, world: World, thread: ThreadSpec, reply: ReplySpec, count: int,
              down: bool = False) -> None:
    """Up to ``count`` votes on a reply from people who can see the thread (never its author)."""
    pool = [u for u in world.voter_pool(thread) if u.email != reply.author_email]
    seen = {email for email, _ in reply.votes}
    for user in rng.sample(pool, min(count, len(pool))):
        if user.email not in seen:
            seen.add(user.email)
            reply.votes.append((user.email, -1 if down else 1))
