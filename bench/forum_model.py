"""The shape of the benchmark data: who posts what, where, how often and who may see it.

Deterministic for a given ``Scale`` (one seeded ``random.Random``), so SQLite and PostgreSQL get the same
rows. Small tables are built as lists; replies and votes are streamed, because a million reply dicts held
at once would cost gigabytes.
"""
from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from forum_text import (
    DBS,
    OS,
    PRODUCTS,
    REPLY_PARAGRAPHS,
    SPACES,
    TAGS,
    THREAD_PARAGRAPHS,
    TOPOLOGIES,
    body_pool,
    make_title,
)

from forum.models import Environment, Hosting, OrgKind, ThreadKind, ThreadStatus, Visibility

END = datetime(2026, 11, 1, 12, 0, 0)
SPAN = timedelta(days=3 * 365)
PASSWORD = "bench password, not a secret"


@dataclass(frozen=True)
class Scale:
    threads: int = 100_000
    replies: int = 1_000_000
    customer_orgs: int = 800
    partner_orgs: int = 40
    employees: int = 80
    fifty_reply_threads: int = 20
    seed: int = 1126


class BenchData:
    """Plans every row; ``tables()`` yields (table name, rows) in an order foreign keys accept."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.rng = random.Random(scale.seed)
        self.targets: dict = {"password": PASSWORD}

    # --- people ------------------------------------------------------------------------------------

    def _people(self) -> tuple[list[dict], list[dict], list[dict]]:
        from forum.passwords import hash_password

        rng, s = self.rng, self.scale
        password_hash = hash_password(PASSWORD)
        created = END - SPAN - timedelta(days=30)
        orgs = [dict(id=1, name="Vendor", slug="vendor", kind=OrgKind.VENDOR)]
        for i in range(s.partner_orgs):
            orgs.append(dict(id=len(orgs) + 1, name=f"Partner Firm {i + 1:03d}", slug=f"partner-{i + 1:03d}",
                             kind=OrgKind.PARTNER))
        for i in range(s.customer_orgs):
            orgs.append(dict(id=len(orgs) + 1, name=f"Customer {i + 1:04d}", slug=f"customer-{i + 1:04d}",
                             kind=OrgKind.CUSTOMER))
        for org in orgs:
            org.update(description="", is_placeholder=False, created_at=created)
        self.partner_org_ids = [o["id"] for o in orgs if o["kind"] is OrgKind.PARTNER]
        self.customer_org_ids = [o["id"] for o in orgs if o["kind"] is OrgKind.CUSTOMER]

        engagements, pairs = [], set()
        for partner_id in self.partner_org_ids:
            for customer_id in rng.sample(self.customer_org_ids, rng.randint(5, 25)):
                pairs.add((partner_id, customer_id))
        pairs.add((self.partner_org_ids[0], self.customer_org_ids[0]))  # the bench partner serves the bench customer
        for i, (partner_id, customer_id) in enumerate(sorted(pairs)):
            engagements.append(dict(id=i + 1, partner_id=partner_id, customer_id=customer_id, created_at=created))

        users: list[dict] = []
        self.members: dict[int, list[int]] = {}

        def add(org_id: int, username: str, **flags) -> None:
            user_id = len(users) + 1
            users.append(dict(
                id=user_id, email=f"{username}@example.test", username=username,
                display_name=username.replace("-", " ").title(), password_hash=password_hash,
                organisation_id=org_id, is_org_admin=flags.get("is_org_admin", False),
                is_lead=flags.get("is_lead", False), is_moderator=flags.get("is_moderator", False),
                is_admin=flags.get("is_admin", False), is_placeholder=False, active=True, session_version=1,
                bio="", created_at=created, last_seen_at=None))
            self.members.setdefault(org_id, []).append(user_id)

        add(1, "bench-employee")
        for i in range(1, s.employees):
            add(1, f"staff-{i:03d}", is_moderator=i % 10 == 0, is_lead=i % 15 == 0, is_admin=i == 1)
        add(self.partner_org_ids[0], "bench-partner")
        for org_id in self.partner_org_ids:
            for i in range(rng.randint(3, 9)):
                add(org_id, f"p{org_id}-{i}")
        add(self.customer_org_ids[0], "bench-customer")
        for org_id in self.customer_org_ids:
            for i in range(rng.randint(2, 14)):
                add(org_id, f"c{org_id}-{i}", is_org_admin=i == 0)
        self.employee_ids = self.members[1]
        self.moderator_ids = [u["id"] for u in users if u["is_moderator"]] or self.employee_ids[:1]
        self.partner_user_ids = [u for o in self.partner_org_ids for u in self.members[o]]
        self.customer_user_ids = [u for o in self.customer_org_ids for u in self.members[o]]
        self.user_ids = [u["id"] for u in users]
        self.user_org = {u["id"]: u["organisation_id"] for u in users}
        self.targets["users"] = {"customer": "bench-customer@example.test",
                                 "employee": "bench-employee@example.test",
                                 "partner": "bench-partner@example.test"}
        return orgs, engagements, users

    def _catalog(self) -> tuple[list[dict], list[dict], list[dict]]:
        rng = self.rng
        products, versions = [], []
        for name, names in PRODUCTS.items():
            products.append(dict(id=len(products) + 1, name=name, slug=name.lower(), description=""))
            for position, version in enumerate(names):
                versions.append(dict(id=len(versions) + 1, product_id=products[-1]["id"], name=version,
                                     position=position, released_on=date(2022, 1, 1) + timedelta(days=150 * position)))
        self.version_label = {v["id"]: (products[v["product_id"] - 1]["name"], v["name"]) for v in versions}
        deployments: list[dict] = []
        self.org_deployments: dict[int, list[dict]] = {}
        for org_id in self.customer_org_ids:
            for i in range(rng.randint(1, 3)):
                row = dict(
                    id=len(deployments) + 1, organisation_id=org_id, name=f"Deployment {i + 1}",
                    product_version_id=rng.choice(versions)["id"], edition=rng.choice(["Standard", "Enterprise"]),
                    hosting=rng.choice(list(Hosting)), database=rng.choice(DBS), operating_system=rng.choice(OS),
                    topology=rng.choice(TOPOLOGIES), integrations=rng.sample(["SAP", "Salesforce", "LDAP", "Kafka"], 2),
                    environment=rng.choice(list(Environment)), go_live=date(2024, 1, 1) + timedelta(days=rng.randint(0, 900)),
                    size_users=rng.choice([200, 800, 2500, 12000]), created_at=END - SPAN, updated_at=END - SPAN)
                deployments.append(row)
                self.org_deployments.setdefault(org_id, []).append(row)
        return products, versions, deployments

    def _snapshot(self, dep: dict) -> dict:
        product, version = self.version_label[dep["product_version_id"]]
        return {"deployment_id": dep["id"], "name": dep["name"], "product": product, "version": version,
                "edition": dep["edition"], "hosting": dep["hosting"].value, "database": dep["database"],
                "operating_system": dep["operating_system"], "topology": dep["topology"],
                "integrations": dep["integrations"], "environment": dep["environment"].value,
                "go_live": dep["go_live"].isoformat(), "size_users": dep["size_users"]}

    # --- threads and replies -----------------------------------------------------------------------

    def _plan_threads(self) -> list[dict]:
        """Who asked what, where and when; the reply plan fills in counts, status and activity."""
        rng, s = self.rng, self.scale
        self.space_rows = [dict(id=i + 1, slug=slug, name=name, description=f"Questions about {name.lower()}.",
                                default_visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
                                position=i, created_at=END - SPAN) for i, (slug, name, _, internal) in enumerate(SPACES)]
        internal_space = next(r["id"] for r in self.space_rows if r["default_visibility"] is Visibility.INTERNAL)
        space_ids, weights = [r["id"] for r in self.space_rows], [share for _, _, share, _ in SPACES]
        offsets = sorted(rng.random() for _ in range(s.threads))
        threads = []
        for i, offset in enumerate(offsets):
            space_id = rng.choices(space_ids, weights)[0]
            roll = rng.random()
            if space_id == internal_space or roll < 0.08:
                author, visibility = rng.choice(self.employee_ids), Visibility.PUBLIC
                if space_id == internal_space or rng.random() < 0.5:
                    visibility = Visibility.INTERNAL
            elif roll < 0.20:
                author = rng.choice(self.partner_user_ids)
                visibility = Visibility.ORG_PRIVATE if rng.random() < 0.08 else Visibility.PUBLIC
            else:
                author = rng.choice(self.customer_user_ids)
                visibility = Visibility.ORG_PRIVATE if rng.random() < 0.11 else Visibility.PUBLIC
            org_id = self.user_org[author]
            kind = ThreadKind.QUESTION if rng.random() < 0.86 else ThreadKind.DISCUSSION
            if org_id == 1 and rng.random() < 0.15:
                kind = ThreadKind.ANNOUNCEMENT
            deployment = None
            if org_id in self.org_deployments and kind is ThreadKind.QUESTION and rng.random() < 0.6:
                deployment = rng.choice(self.org_deployments[org_id])
            created = END - SPAN + SPAN * offset
            body_md, body_html = rng.choice(self.thread_bodies)
            threads.append(dict(
                id=i + 1, space_id=space_id, author_id=author, organisation_id=org_id, title=make_title(rng),
                body_md=body_md, body_html=body_html, kind=kind, visibility=visibility, status=ThreadStatus.OPEN,
                deployment_id=deployment["id"] if deployment else None,
                deployment_snapshot=self._snapshot(deployment) if deployment else None, accepted_reply_id=None,
                reply_count=0, external_id=None, created_at=created, updated_at=created,
                last_activity_at=created, resolved_at=None))
        return threads

    def _reply_counts(self, threads: list[dict]) -> list[int]:
        """A skewed spread summing to ``replies``; a few public threads get exactly 50 (the thread page)."""
        rng, s = self.rng, self.scale
        bench_space = self.space_rows[0]["id"]
        candidates = [t["id"] for t in threads[len(threads) // 2:]
                      if t["visibility"] is Visibility.PUBLIC and t["kind"] is ThreadKind.QUESTION]
        special = sorted(rng.sample(candidates, min(s.fifty_reply_threads, len(candidates))))
        in_space = [tid for tid in special if threads[tid - 1]["space_id"] == bench_space]
        self.special = set(special)
        self.bench_thread = (in_space or special)[0]
        self.targets.update(space_slug=self.space_rows[0]["slug"], thread_id=self.bench_thread,
                            fifty_reply_thread_ids=special)
        counts = [0] * len(threads)
        for tid in special:
            counts[tid - 1] = 50
        others = [i for i in range(len(threads)) if threads[i]["id"] not in self.special]
        cumulative, total = [], 0.0
        for _ in others:
            total += rng.gammavariate(0.6, 1.0)
            cumulative.append(total)
        for index in rng.choices(others, cum_weights=cumulative, k=max(0, s.replies - 50 * len(special))):
            counts[index] += 1
        return counts

    def plan(self) -> None:
        """Everything but the reply and vote rows, which ``_replies`` streams from this plan."""
        rng = self.rng
        self.thread_bodies = body_pool(THREAD_PARAGRAPHS, 300, 4, rng)
        self.reply_bodies = body_pool(REPLY_PARAGRAPHS, 600, 3, rng)
        self.orgs, self.engagements, self.users = self._people()
        self.products, self.versions, self.deployments = self._catalog()
        self.threads = self._plan_threads()
        counts = self._reply_counts(self.threads)
        end_seconds = SPAN.total_seconds()
        start = END - SPAN
        times: list[float] = []
        owners: list[int] = []
        for t, count in zip(self.threads, counts, strict=True):
            created = (t["created_at"] - start).total_seconds()
            moment = created
            for _ in range(count):
                moment += rng.expovariate(1 / 36_000)  # replies ten hours apart on average
                if moment > end_seconds:
                    moment = created + (end_seconds - created) * rng.random()
                times.append(moment)
                owners.append(t["id"])
        # Reply ids follow time across threads, as they do in a live forum (a thread's replies are scattered).
        order = sorted(range(len(times)), key=times.__getitem__)
        self.reply_time = [start + timedelta(seconds=times[i]) for i in order]
        self.reply_thread = [owners[i] for i in order]
        del times, owners, order
        self.reply_staff = [False] * len(self.reply_thread)
        self.reply_deleted = [False] * len(self.reply_thread)
        per_thread: dict[int, list[int]] = {}
        for index, tid in enumerate(self.reply_thread):
            if tid not in self.special:
                roll = rng.random()
                self.reply_staff[index] = roll < 0.03
                self.reply_deleted[index] = 0.03 <= roll < 0.035
            per_thread.setdefault(tid, []).append(index)
        for t in self.threads:
            indexes = per_thread.get(t["id"], [])
            shown = [i for i in indexes if not self.reply_staff[i] and not self.reply_deleted[i]]
            t["reply_count"] = len(shown)
            if indexes:
                t["last_activity_at"] = max(t["created_at"], self.reply_time[indexes[-1]])
            self._set_status(t, shown)

    def _set_status(self, thread: dict, shown: list[int]) -> None:
        rng = self.rng
        if not shown:
            if thread["kind"] is ThreadKind.QUESTION and rng.random() < 0.2:
                thread["status"] = ThreadStatus.NEEDS_STAFF
            return
        thread["status"] = ThreadStatus.ANSWERED
        if thread["kind"] is not ThreadKind.QUESTION:
            return
        roll = rng.random()
        if roll < 0.45 or thread["id"] == self.bench_thread:
            accepted = rng.choice(shown)
            thread.update(status=ThreadStatus.RESOLVED, accepted_reply_id=accepted + 1,
                          resolved_at=self.reply_time[accepted] + timedelta(hours=rng.randint(1, 72)))
        elif roll < 0.50:
            thread["status"] = ThreadStatus.NEEDS_STAFF

    def _replies(self) -> Iterator[dict]:
        """Reply rows in id order; their votes are collected on the way (the score is their sum)."""
        rng, threads = self.rng, self.threads
        self.votes: list[dict] = []
        for index, tid in enumerate(self.reply_thread):
            thread = threads[tid - 1]
            staff = self.reply_staff[index]
            if staff or thread["visibility"] is Visibility.INTERNAL:
                author = rng.choice(self.employee_ids)
            elif thread["visibility"] is Visibility.ORG_PRIVATE and rng.random() < 0.6:
                author = rng.choice(self.members[thread["organisation_id"]])
            else:
                pool = rng.choices((self.employee_ids, self.partner_user_ids, self.customer_user_ids), (35, 20, 45))[0]
                author = rng.choice(pool)
            created = self.reply_time[index]
            score = 0
            if rng.random() < (0.5 if tid in self.special else 0.12):
                for voter in rng.sample(self.user_ids, rng.randint(1, 4)):
                    if voter != author:
                        value = 1 if rng.random() < 0.85 else -1
                        score += value
                        self.votes.append(dict(id=len(self.votes) + 1, reply_id=index + 1, user_id=voter,
                                               value=value, created_at=created + timedelta(hours=2)))
            deleted = self.reply_deleted[index]
            body_md, body_html = rng.choice(self.reply_bodies)
            yield dict(id=index + 1, thread_id=tid, author_id=author, body_md=body_md, body_html=body_html,
                       is_staff_note=staff, score=score, created_at=created, updated_at=created,
                       deleted_at=created + timedelta(days=1) if deleted else None,
                       deleted_by_id=rng.choice(self.moderator_ids) if deleted else None)

    def _thread_tags(self) -> Iterator[dict]:
        rng = self.rng
        for t in self.threads:
            for tag_id in rng.sample(range(1, len(TAGS) + 1), rng.choice([0, 1, 1, 2, 2, 3])):
                yield dict(thread_id=t["id"], tag_id=tag_id)

    def _confirmations(self) -> Iterator[dict]:
        rng, number = self.rng, 0
        for t in self.threads:
            if t["accepted_reply_id"] is None or (rng.random() > 0.1 and t["id"] != self.bench_thread):
                continue
            for org_id in rng.sample(self.customer_org_ids, 3 if t["id"] == self.bench_thread else rng.randint(1, 3)):
                if org_id == t["organisation_id"]:
                    continue
                number += 1
                yield dict(id=number, reply_id=t["accepted_reply_id"], user_id=self.members[org_id][0],
                           deployment_id=self.org_deployments[org_id][0]["id"], note="",
                           created_at=t["resolved_at"] + timedelta(days=rng.randint(1, 60)))

    def tables(self) -> Iterable[tuple[str, Iterable[dict]]]:
        """(table, rows) in load order; replies before votes, because votes are made with them."""
        self.plan()
        yield "organisation", self.orgs
        yield "engagement", self.engagements
        yield "user_account", self.users
        yield "product", self.products
        yield "product_version", self.versions
        yield "deployment", self.deployments
        yield "space", self.space_rows
        yield "tag", [dict(id=i + 1, name=name) for i, name in enumerate(TAGS)]
        yield "thread", self.threads
        yield "reply", self._replies()
        yield "vote", self.votes
        yield "thread_tag", self._thread_tags()
        yield "confirmation", self._confirmations()
