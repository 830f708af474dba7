"""Text pools for the forum benchmark data: titles, thread bodies and replies that look like real ones.

Bodies are rendered to HTML once per pool entry (rendering a million replies would dominate the load time);
rows then pick entries from the pools, so lengths and markup vary the way real posts do.
"""
from __future__ import annotations

import random

PRODUCTS = {
    "Ledger": ["8.2", "8.3", "9.0", "9.1", "9.2", "10.0"],
    "Stockroom": ["4.5", "4.6", "5.0", "5.1", "5.2", "5.3"],
    "Fieldline": ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2"],
}

SPACES = [
    # slug, name, share of threads, internal?
    ("installation", "Installation", 0.24, False),
    ("upgrades", "Upgrades and migrations", 0.16, False),
    ("performance", "Performance and sizing", 0.11, False),
    ("integrations", "Integrations", 0.10, False),
    ("databases", "Databases", 0.08, False),
    ("high-availability", "Clustering and high availability", 0.06, False),
    ("security", "Security and authentication", 0.06, False),
    ("cloud", "Cloud and containers", 0.06, False),
    ("licensing", "Licensing", 0.04, False),
    ("general", "General discussion", 0.04, False),
    ("announcements", "Announcements", 0.01, False),
    ("staff-room", "Staff room", 0.04, True),
]

TAGS = [
    "oracle", "postgresql", "sql-server", "mysql", "ldap", "saml", "sso", "kerberos", "tls", "proxy",
    "kubernetes", "docker", "openshift", "aws", "azure", "gcp", "windows", "rhel", "ubuntu", "java",
    "jvm-heap", "memory", "timeout", "deadlock", "backup", "restore", "upgrade", "patch", "cluster",
    "load-balancer", "smtp", "rest-api", "webhooks", "sap", "salesforce", "kafka", "batch-jobs",
    "reporting", "licensing", "logging",
]

SYMPTOMS = [
    "installer hangs at {pct}%", "service fails to start after reboot", "login loop behind the load balancer",
    "ORA-{code} during schema creation", "out of memory in the import job", "slow search after upgrade",
    "SAML assertion rejected", "certificate chain not trusted", "nightly batch takes {hours} hours",
    "deadlocks under load", "cluster node keeps leaving", "reports time out after {mins} minutes",
    "LDAP sync skips users", "upgrade script stops at step {step}", "license check fails offline",
    "webhook deliveries are delayed", "heap grows until the JVM restarts", "PDF export shows empty pages",
    "connection pool exhausted", "Kafka consumer lag keeps growing", "backup restore misses attachments",
]
CONTEXTS = [
    "on {os}", "with {db}", "in a {topology}", "behind {proxy}", "after moving to {cloud}",
    "on the test environment", "in production only", "since the last patch", "with {users} users",
]
OS = ["RHEL 8", "RHEL 9", "Windows Server 2019", "Windows Server 2022", "Ubuntu 22.04", "SLES 15"]
DBS = ["Oracle 19c", "PostgreSQL 15", "PostgreSQL 16", "SQL Server 2019", "SQL Server 2022", "MySQL 8"]
TOPOLOGIES = ["single node", "two-node cluster", "HA pair", "three-node cluster"]
PROXIES = ["F5", "NGINX", "HAProxy", "an Azure application gateway"]
CLOUDS = ["AWS", "Azure", "GCP", "OpenShift"]

THREAD_PARAGRAPHS = [
    "We are installing {product} {version} on {os} with {db}. The installer gets to the schema step and then "
    "nothing happens for a long time; the log shows the last statement as a `CREATE INDEX`.",
    "Since the upgrade to {version} our users get logged out every few minutes. We run two nodes behind "
    "{proxy} with sticky sessions enabled, at least according to the network team.",
    "Steps to reproduce:\n\n1. Stop both nodes\n2. Run the upgrade script with `--resume`\n3. Start node A, "
    "then node B\n\nNode B never joins the cluster.",
    "The error in `server.log` is:\n\n```\njava.sql.SQLRecoverableException: IO Error: Connection reset\n"
    "    at oracle.jdbc.driver.T4CConnection.logon(T4CConnection.java:801)\n```",
    "Has anyone seen this with {db}? Support asked for a thread dump, which we attached to the case, but we "
    "would like to know whether other customers run this combination at all.",
    "Our environment: {topology}, {users} named users, about 40 integrations through the REST API. "
    "The problem started after the monthly OS patching window.",
    "We already tried raising the heap to 16 GB and setting `pool.maxSize=200`; it only delays the problem "
    "by a day or so.",
    "| setting | value |\n|---|---|\n| nodes | 2 |\n| database | {db} |\n| OS | {os} |",
    "Any pointers appreciated — go-live is planned for next month and this is the last blocker.",
]

REPLY_PARAGRAPHS = [
    "We had exactly this on {version}. It is the statement timeout on the database side: raise it for the "
    "installer session only and the schema step completes in about ten minutes.",
    "Check that the load balancer forwards `X-Forwarded-Proto`; without it the app issues cookies for http "
    "and the browser drops them.",
    "Same here, {db} on {os}. Following.",
    "This is a known issue in {version}, fixed in the next patch. The workaround is in the release notes "
    "under *Known issues*.",
    "Can you post the output of `./admin.sh diagnostics --cluster`? The membership section usually shows "
    "which node has the stale configuration.",
    "Thanks, that worked for us too. We also had to clear the cache directory on both nodes before the "
    "restart.",
    "From the vendor side: please open a case and reference this thread, we will attach the hotfix there.",
    "Try this in `node.properties`:\n\n```\ncluster.join.timeout=120\ncluster.discovery=static\n```\n\n"
    "Dynamic discovery does not work across the two subnets you describe.",
    "We moved the search index to local SSD and the slowness went away; the network share was the "
    "bottleneck, not the database.",
    "Which JDBC driver version do you have? Anything older than the one shipped with {version} shows "
    "this behaviour.",
    "+1, we see it on our test environment but not in production. The difference is the proxy.",
    "1. Stop the service\n2. Delete `work/cache`\n3. Start it again with `--rebuild-index`\n\n"
    "Took about an hour on 2 million documents.",
    "Did you size the connection pool per node or in total? The setting is per node, so with three nodes "
    "you have three times the connections you think.",
]


def _fill(template: str, rng: random.Random) -> str:
    product = rng.choice(list(PRODUCTS))
    return template.format(
        product=product, version=rng.choice(PRODUCTS[product]), os=rng.choice(OS), db=rng.choice(DBS),
        topology=rng.choice(TOPOLOGIES), proxy=rng.choice(PROXIES), cloud=rng.choice(CLOUDS),
        users=rng.choice([200, 800, 2500, 12000]), pct=rng.choice([37, 62, 88, 99]),
        code=rng.choice(["00942", "01031", "12514", "04031"]), hours=rng.choice([3, 5, 9]),
        mins=rng.choice([2, 5, 10]), step=rng.randint(3, 19))


def make_title(rng: random.Random) -> str:
    """A question title such as 'Ledger 9.1: installer hangs at 88% on RHEL 9'."""
    product = rng.choice(list(PRODUCTS))
    title = f"{product} {rng.choice(PRODUCTS[product])}: {_fill(rng.choice(SYMPTOMS), rng)}"
    if rng.random() < 0.7:
        title += " " + _fill(rng.choice(CONTEXTS), rng)
    return title[:200]


def body_pool(paragraphs: list[str], size: int, max_paragraphs: int, rng: random.Random) -> list[tuple[str, str]]:
    """``size`` (markdown, html) bodies of 1..max_paragraphs paragraphs, each rendered once."""
    from forum.markdown import render_markdown

    pool = []
    for _ in range(size):
        count = rng.choices([1, 2, 3, 4][:max_paragraphs], weights=[5, 3, 2, 1][:max_paragraphs])[0]
        chosen = [_fill(p, rng) for p in rng.sample(paragraphs, count)]
        md = "\n\n".join(chosen)
        pool.append((md, render_markdown(md)))
    return pool
