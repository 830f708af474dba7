"""The demo's product catalog, spaces and deployment profiles."""
from __future__ import annotations

import random
from datetime import date, timedelta

from .spec import DeploymentSpec, OrgSpec, ProductSpec, SpaceSpec

PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec("ledger", "Ledger ERP", "ledger-erp",
                "Finance, procurement, inventory and manufacturing in one suite.",
                (("2024.1", date(2024, 4, 15)), ("2024.2", date(2024, 10, 14)), ("2025.1", date(2025, 4, 14)),
                 ("2025.2", date(2025, 10, 13)), ("2026.1", date(2026, 4, 20)))),
    ProductSpec("bridge", "Bridge Integration Hub", "bridge-integration-hub",
                "Connectors, mappings and APIs between Ledger ERP and everything else.",
                (("7.2", date(2024, 6, 3)), ("7.3", date(2024, 12, 2)), ("8.0", date(2025, 7, 7)),
                 ("8.1", date(2026, 2, 9)))),
    ProductSpec("lens", "Lens Analytics", "lens-analytics",
                "Dashboards, cubes and scheduled reports on top of Ledger ERP data.",
                (("3.4", date(2024, 5, 20)), ("3.5", date(2025, 1, 27)), ("4.0", date(2025, 9, 15)),
                 ("4.1", date(2026, 5, 18)))),
)
PRODUCT_BY_KEY = {p.key: p for p in PRODUCTS}

SPACES: tuple[SpaceSpec, ...] = (
    SpaceSpec("announcements", "Announcements", "Releases, maintenance windows and community news.", "public", 0,
              staff_posts_only=True),
    SpaceSpec("installation-upgrades", "Installation & upgrades",
              "Installing, patching and upgrading Ledger ERP, Bridge and Lens.", "public", 1),
    SpaceSpec("integrations", "Integrations", "Bridge connectors, APIs, EDI and identity providers.", "public", 2),
    SpaceSpec("performance", "Performance", "Batch jobs, slow screens, database tuning and sizing.", "public", 3),
    SpaceSpec("security-sso", "Security & SSO", "Single sign-on, certificates, roles and audits.", "public", 4),
    SpaceSpec("reporting", "Reporting & analytics", "Lens dashboards, report exports and data refreshes.",
              "public", 5),
    SpaceSpec("databases", "Databases & data migration",
              "Oracle, SQL Server, PostgreSQL and SAP HANA questions; moving data between them.", "public", 6),
    SpaceSpec("operations", "Operations & high availability",
              "Clusters, failover, monitoring, mail and licensing in day-to-day running.", "public", 7),
    SpaceSpec("general", "General discussion", "Practices, roadmaps and everything else.", "public", 8),
    SpaceSpec("staff-room", "Staff room", "Vendor staff only: escalations, trends and release planning.",
              "internal", 9),
)

DATABASES = (
    ("Oracle 19c", 30), ("Oracle 21c", 6), ("SQL Server 2019", 14), ("SQL Server 2022", 14),
    ("PostgreSQL 14", 8), ("PostgreSQL 15", 10), ("PostgreSQL 16", 10), ("SAP HANA 2.0 SPS07", 6),
)
OPERATING_SYSTEMS = {
    "windows": ("Windows Server 2019", "Windows Server 2022"),
    "linux": ("Red Hat Enterprise Linux 8", "Red Hat Enterprise Linux 9", "Oracle Linux 8", "Ubuntu 22.04 LTS",
              "SUSE Linux Enterprise 15 SP5"),
}
TOPOLOGIES = (("single node", 40), ("cluster (3 nodes)", 20), ("HA pair", 25), ("cluster (2 nodes)", 15))
INTEGRATIONS = (
    "Salesforce", "Workday", "ServiceNow", "Okta", "Microsoft Entra ID", "ADFS", "SAP S/4HANA", "Shopify",
    "EDI (AS2)", "Kafka", "Snowflake", "Power BI", "Coupa", "Jira", "SFTP bank feeds", "Exchange Online",
    "Dynamics 365 CRM", "Ping Identity",
)
EDITIONS = {"ledger": ("Standard", "Enterprise", "Public Sector"), "bridge": ("Team", "Enterprise"),
            "lens": ("Professional", "Enterprise")}
DEPLOYMENT_NAMES = {
    ("ledger", "production"): ("ERP production", "Ledger prod", "Group finance ERP", "Main ERP"),
    ("ledger", "test"): ("ERP test", "Ledger UAT", "Upgrade rehearsal", "ERP pre-production"),
    ("bridge", "production"): ("Integration hub", "Bridge production", "Interfaces prod"),
    ("bridge", "test"): ("Bridge test", "Interfaces UAT"),
    ("lens", "production"): ("Analytics", "Lens production", "Management reporting"),
    ("lens", "test"): ("Lens test", "Reporting sandbox"),
}


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def version_as_of(product_key: str, current: str, when: date) -> str:
    """The version a deployment most likely ran on ``when``: its current one, or the newest released by then."""
    versions = PRODUCT_BY_KEY[product_key].versions
    names = [name for name, _ in versions]
    released = [name for name, day in versions if day <= when and names.index(name) <= names.index(current)]
    return released[-1] if released else names[0]


def previous_version(product_key: str, version: str) -> str:
    names = [name for name, _ in PRODUCT_BY_KEY[product_key].versions]
    i = names.index(version)
    return names[i - 1] if i > 0 else version


def _deployment(rng: random.Random, org: OrgSpec, product_key: str, environment: str, base: DeploymentSpec | None,
                taken: set[str]) -> DeploymentSpec:
    product = PRODUCT_BY_KEY[product_key]
    names = [n for n in DEPLOYMENT_NAMES[(product_key, environment)] if n not in taken] or [f"{product.name} {len(taken)}"]
    name = rng.choice(names)
    taken.add(name)
    hosting = base.hosting if base else weighted(rng, (("on_premises", 50), ("cloud", 25), ("hybrid", 25)))
    database = base.database if base else weighted(rng, DATABASES)
    if base:
        os_name = base.operating_system
    elif database.startswith("SQL Server"):
        os_name = rng.choice(OPERATING_SYSTEMS["windows"])
    else:
        os_name = rng.choice(OPERATING_SYSTEMS["linux"] + ("Windows Server 2022",) * (database.startswith("Oracle")))
    topology = "single node" if environment == "test" else weighted(rng, TOPOLOGIES)
    versions = [name for name, _ in product.versions]
    version = rng.choice(versions[-3:] if environment == "production" else versions[-2:])
    integrations = tuple(sorted(rng.sample(INTEGRATIONS, rng.randint(0, 4))))
    return DeploymentSpec(
        org_slug=org.slug, name=name, product_key=product_key, version=version,
        edition=rng.choice(EDITIONS[product_key]), hosting=hosting, database=database, operating_system=os_name,
        topology=topology, integrations=integrations, environment=environment,
        # Went live years ago on some older release and has been upgraded since.
        go_live=date(2019, 1, 7) + timedelta(days=rng.randint(0, 2350)),
        size_users=rng.choice((40, 80, 150, 250, 400, 600, 900, 1500, 2500, 4000, 7000)),
    )


def build_deployments(rng: random.Random, orgs: list[OrgSpec]) -> list[DeploymentSpec]:
    """One to three deployments per customer: mostly Ledger ERP, often with Bridge or Lens beside it."""
    result: list[DeploymentSpec] = []
    for org in orgs:
        if org.kind != "customer":
            continue
        taken: set[str] = set()
        main = _deployment(rng, org, "ledger", "production", None, taken)
        result.append(main)
        extras = rng.sample(["ledger-test", "bridge", "lens"], rng.choice((0, 1, 1, 2, 2)))
        for extra in sorted(extras):
            if extra == "ledger-test":
                result.append(_deployment(rng, org, "ledger", "test", main, taken))
            else:
                result.append(_deployment(rng, org, extra, "production", main, taken))
    return result
