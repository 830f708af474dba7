"""The demo's organisations and people: a vendor, its customers, partner firms and staff (all fictional)."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from .spec import OrgSpec, UserSpec

DEMO_PASSWORD = "groundwork-demo-2026"
DEMO_DOMAIN = "demo.test"

VENDOR = ("larchmont-software", "Larchmont Software",
          "Makes Ledger ERP, Bridge Integration Hub and Lens Analytics.")

CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("Aldercrest Foods", "food manufacturing"), ("Brightwater Utilities", "water and power"),
    ("Caldera Mining Group", "mining"), ("Dunmore Logistics", "third-party logistics"),
    ("Eastvale Health Trust", "hospitals"), ("Fernhollow Textiles", "textiles"),
    ("Glenrock Insurance", "insurance"), ("Harbourline Shipping", "shipping"),
    ("Ivymere University", "higher education"), ("Juniper Ridge Hospitality", "hotels"),
    ("Kilnworth Ceramics", "manufacturing"), ("Lowmoor Water Board", "public utility"),
    ("Marchbank Retail", "retail"), ("Northfold Pharmaceuticals", "pharmaceuticals"),
    ("Oakhaven Municipal Services", "local government"), ("Pellmont Engineering", "engineering"),
    ("Quillfeather Publishing", "publishing"), ("Redwillow Automotive", "automotive parts"),
    ("Saltmarsh Seafoods", "food processing"), ("Thistledown Dairy", "dairy"),
    ("Umberfield Energy", "energy"), ("Valecrest Telecom", "telecommunications"),
    ("Westerholm Bank", "banking"), ("Yarrowby Agricultural Co-op", "agriculture"),
    ("Zephyr Lane Fashion", "fashion retail"), ("Ashgrove Chemicals", "chemicals"),
    ("Bramblegate Construction", "construction"), ("Coldharbour Steel", "steel"),
    ("Driftwood Airlines", "aviation"), ("Elmstead County Council", "local government"),
    ("Foxglove Cosmetics", "consumer goods"), ("Greymantle Security", "security services"),
    ("Hollowell Paper Mills", "paper"), ("Inkwell Media Group", "media"),
    ("Kestrel Point Aerospace", "aerospace"), ("Larkspur Medical Devices", "medical devices"),
    ("Millbrook Beverages", "beverages"), ("Nettlefield Transport", "public transport"),
    ("Orchard Row Grocers", "grocery retail"), ("Pinecliff Resorts", "leisure"),
    ("Quarrystone Building Supplies", "wholesale"), ("Rookwood Electronics", "electronics"),
    ("Silverbirch Pensions", "pensions"), ("Tidewater Port Authority", "ports"),
    ("Wrenfield Schools Trust", "education"), ("Brackenbury Hotels", "hotels"),
)

PARTNERS: tuple[tuple[str, str], ...] = (
    ("Quayside Consulting", "Ledger ERP implementations for mid-size manufacturers."),
    ("Meridian Nine Partners", "Upgrades, hosting and managed services."),
    ("Ironbark Solutions", "Integration projects on Bridge Integration Hub."),
    ("Lanternfish Digital", "Analytics and reporting with Lens."),
    ("Copperline Advisory", "Finance process and public-sector rollouts."),
    ("Stonegate Integration Services", "Database migrations and performance tuning."),
)

FIRST_NAMES = (
    "Anna", "Ben", "Chiara", "Dmitri", "Elif", "Farah", "Gareth", "Hana", "Ines", "Jonas", "Kwame", "Leila",
    "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tamsin", "Ulla", "Victor", "Wen",
    "Xavier", "Yusuf", "Zofia", "Aiko", "Bruno", "Carmen", "Declan", "Esther", "Felix", "Greta", "Hugo",
    "Imani", "Jasper", "Katja", "Luis", "Maren", "Nikhil", "Olu", "Petra", "Rafael", "Sanne", "Tomasz",
    "Uma", "Valeria", "Wiktor", "Yara", "Zainab", "Aurelio", "Birgit", "Connor", "Dalia", "Emeka", "Freya",
)
LAST_NAMES = (
    "Keller", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Brennan", "Castillo", "Fischer",
    "Mensah", "Rossi", "Sato", "Kowalski", "Andersen", "Iyer", "Dubois", "Jansen", "Petrov", "Quinn",
    "Ribeiro", "Schmidt", "Takahashi", "Varga", "Whitfield", "Yilmaz", "Zeller", "Achebe", "Bauer", "Costa",
    "Duarte", "Eriksen", "Fontaine", "Gallagher", "Horvath", "Ishikawa", "Jovanovic", "Kaur", "Larsen",
    "Marsh", "Nakamura", "Oyelaran", "Pereira", "Rahman", "Sorensen", "Thorne", "Ueda", "Vidal", "Walsh",
)

# (email local part, display name, flags, bio)
STAFF: tuple[tuple[str, str, dict, str], ...] = (
    ("admin", "Morgan Ellery", {"is_admin": True}, "Community admin at Larchmont."),
    ("moderator", "Priya Sandhu", {"is_moderator": True}, "Community moderator, support engineering."),
    ("lead", "Tobias Renner", {"is_lead": True}, "Implementation lead, Ledger ERP."),
    ("employee", "Ines Carvalho", {}, "Support engineer, Ledger ERP platform."),
    ("helena.marsh", "Helena Marsh", {"is_lead": True}, "Implementation lead, Bridge and Lens."),
    ("omar.fadel", "Omar Fadel", {"is_moderator": True}, "Support engineer, databases."),
    ("julia.brandt", "Julia Brandt", {}, "Product manager, Bridge Integration Hub."),
    ("kenji.mori", "Kenji Mori", {}, "Support engineer, identity and security."),
    ("sofia.lindgren", "Sofia Lindgren", {}, "Product manager, Lens Analytics."),
    ("daniel.osei", "Daniel Osei", {}, "Escalation engineer, performance."),
    ("ruth.abara", "Ruth Abara", {}, "Release manager."),
    ("pavel.svoboda", "Pavel Svoboda", {}, "Support engineer, installation and upgrades."),
)

# The logins the README lists; all share DEMO_PASSWORD.
DEMO_LOGINS: tuple[tuple[str, str], ...] = (
    ("customer@demo.test", "customer at Aldercrest Foods"),
    ("customer-admin@demo.test", "customer org admin at Aldercrest Foods"),
    ("partner@demo.test", "partner consultant at Quayside Consulting (engaged with Aldercrest Foods)"),
    ("employee@demo.test", "vendor employee (support engineer)"),
    ("lead@demo.test", "implementation lead"),
    ("moderator@demo.test", "moderator"),
    ("admin@demo.test", "admin"),
)

# Vendor staff sign in with an authenticator app. The demo's staff logins share this published TOTP key (README:
# add it to any authenticator app), as they share the published password: a demo secret, never a real one.
DEMO_TOTP_SECRET = "GWDEMOSTAFFTOTPSECRETKEY234567AB"

START = datetime(2024, 3, 1, 9, 0)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build_orgs() -> list[OrgSpec]:
    """The vendor, the customers and the partner firms, in a fixed order."""
    orgs = [OrgSpec(VENDOR[0], VENDOR[1], "vendor", VENDOR[2], START)]
    for i, (name, industry) in enumerate(CUSTOMERS):
        orgs.append(OrgSpec(slugify(name), name, "customer", f"Customer in {industry}.",
                            START + timedelta(days=7 * i)))
    for i, (name, description) in enumerate(PARTNERS):
        orgs.append(OrgSpec(slugify(name), name, "partner", description, START + timedelta(days=3 * i + 1)))
    return orgs


def build_engagements(rng: random.Random) -> list[tuple[str, str]]:
    """Each partner firm works with several customers; every customer has at least one partner."""
    partners = [slugify(name) for name, _ in PARTNERS]
    customers = [slugify(name) for name, _ in CUSTOMERS]
    pairs: list[tuple[str, str]] = []
    for i, customer in enumerate(customers):
        pairs.append((partners[i % len(partners)], customer))
        if rng.random() < 0.35:
            other = rng.choice([p for p in partners if p != partners[i % len(partners)]])
            pairs.append((other, customer))
    return sorted(set(pairs))


def build_users(rng: random.Random, orgs: list[OrgSpec]) -> list[UserSpec]:
    """Staff, several people per customer (some org admins) and consultants at each partner."""
    used_names: set[str] = set()
    users: list[UserSpec] = []
    vendor = VENDOR[0]
    for local, name, flags, bio in STAFF:
        used_names.add(name)
        email = f"{local}@{DEMO_DOMAIN}" if "." not in local else f"{local}@larchmont.example"
        username = local.replace(".", "-") if "." in local else f"demo-{local}"
        users.append(UserSpec(email, username, name, vendor, START, bio=bio, **flags))

    def fresh_name() -> str:
        while True:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name not in used_names:
                used_names.add(name)
                return name

    def person(org: OrgSpec, admin: bool, bio: str) -> UserSpec:
        name = fresh_name()
        local = slugify(name).replace("-", ".")
        return UserSpec(f"{local}@{org.slug}.example", slugify(name), name, org.slug,
                        org.created_at + timedelta(days=rng.randint(0, 60)), is_org_admin=admin, bio=bio)

    aldercrest, quayside = slugify(CUSTOMERS[0][0]), slugify(PARTNERS[0][0])
    for org in orgs:
        if org.kind == "customer":
            if org.slug == aldercrest:
                users.append(UserSpec(f"customer@{DEMO_DOMAIN}", "demo-customer", "Clara Aldana", org.slug,
                                      org.created_at, bio="ERP application owner."))
                users.append(UserSpec(f"customer-admin@{DEMO_DOMAIN}", "demo-customer-admin", "Rhys Penhallow",
                                      org.slug, org.created_at, is_org_admin=True, bio="IT manager."))
            count = rng.randint(2, 4)
            for i in range(count):
                role = rng.choice(("ERP administrator", "DBA", "Finance systems analyst", "Infrastructure engineer",
                                   "Integration developer", "BI developer", "IT manager"))
                users.append(person(org, admin=(i == 0 and org.slug != aldercrest), bio=f"{role}."))
        elif org.kind == "partner":
            if org.slug == quayside:
                users.append(UserSpec(f"partner@{DEMO_DOMAIN}", "demo-partner", "Maya Trevelyan", org.slug,
                                      org.created_at, bio="Senior consultant."))
            for i in range(rng.randint(3, 4)):
                users.append(person(org, admin=(i == 0), bio="Consultant."))
    return users
