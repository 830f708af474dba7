"""Labelled support-style questions made from our own templates, for evaluation and demos.

Each *intent* is one recurring problem, written in several unrelated phrasings; slot values
(products, versions, platforms) are shared by all intents, so word overlap between two texts
says little about their intent. This is the opposite of StackOverflow20, where a tag's name
often appears in its titles, and it checks that defaults do not lean on lexical shortcuts.
"""

from __future__ import annotations

import random

PRODUCTS = ["Groundwork Server", "the Connector", "Data Hub", "the agent", "Console", "the gateway",
            "Scheduler", "the portal", "Sync Service", "the SDK"]
VERSIONS = ["7.2", "7.3.1", "8.0", "8.1", "8.1.2", "9.0 beta", "6.4", "the latest release"]
PLATFORMS = ["RHEL 8", "Ubuntu 22.04", "Windows Server 2019", "Windows Server 2022", "Kubernetes",
             "OpenShift", "a Docker host", "AIX", "SLES 15", "a VMware VM"]
OPENERS = ["", "", "", "Hi all, ", "Quick question: ", "Urgent: ", "Hello, ", "Newbie here. ",
           "Following up on a ticket: ", "Customer asks: "]
CONTEXTS = ["", "", "", "", " since yesterday", " in production only", " on our test server",
            " after applying patch {v}", " for some users", " on {plat}", " with {p} {v}",
            " since the migration to the cloud", " in two of our three environments"]
CLOSERS = ["", "", "", " Any ideas?", " Thanks!", " What am I missing?", " Please help.",
           " Is this a known issue?", " Workaround?"]

# Each intent: several phrasings with little vocabulary in common.
INTENTS: dict[str, list[str]] = {
    "license_expired": [
        "{p} says my licence has expired although we renewed last week",
        "After renewal the product still reports an invalid license key",
        "Entitlement check fails on {plat}: subscription shows as lapsed",
        "How do I apply the new licence file we got from sales?",
        "Keep getting 'license not valid' banner since the 1st of the month",
    ],
    "sso_saml_loop": [
        "Login redirects back and forth forever when SAML is enabled",
        "Single sign-on with Azure AD ends in an endless redirect",
        "Okta integration: users bounce between IdP and {p} and never get in",
        "SSO sign in keeps looping after we changed the identity provider certificate",
        "Federated authentication never completes, browser shows too many redirects",
    ],
    "db_connection_pool": [
        "{p} runs out of database connections under load",
        "Timeout waiting for a free connection from the JDBC pool",
        "Too many clients already error from Postgres after upgrading to {v}",
        "How big should the connection pool be for 500 concurrent users?",
        "Random 'cannot acquire connection' failures during nightly batch",
    ],
    "upgrade_schema_migration": [
        "Upgrade from {v} stops at the schema migration step",
        "Database update script fails halfway through when moving to {v}",
        "Installer rolls back because the DB schema version is unexpected",
        "Can I rerun the migration after it died with a duplicate column?",
        "Stuck on 'applying changeset 42' during the version upgrade",
    ],
    "tls_certificate_untrusted": [
        "PKIX path building failed when {p} calls our internal API",
        "Self-signed cert not trusted, handshake error in the logs",
        "How do I import our corporate root CA into the truststore?",
        "SSL verification fails after the certificate was renewed",
        "x509: certificate signed by unknown authority on {plat}",
    ],
    "proxy_outbound": [
        "{p} cannot reach the update server from behind our corporate proxy",
        "Where do I configure HTTP_PROXY for outbound calls?",
        "Downloads time out because traffic must go through a forward proxy",
        "Proxy authentication (NTLM) is not picked up by the service",
        "No internet access on the box except via squid, how to set that up?",
    ],
    "memory_heap": [
        "OutOfMemoryError: Java heap space after a few hours of uptime",
        "{p} process keeps growing until the host kills it",
        "Which JVM -Xmx setting do you recommend for 2 million records?",
        "Service crashes with GC overhead limit exceeded on {plat}",
        "RAM usage climbs steadily, looks like a leak in {v}",
    ],
    "port_conflict": [
        "Service won't start: address already in use on 8443",
        "Another program is listening on the default port, how to change it?",
        "Bind exception at startup on {plat}",
        "{p} fails to open its listener because IIS took port 443",
        "Can the admin UI run on a different port than the default?",
    ],
    "ldap_group_sync": [
        "Active Directory groups are not synchronised into {p}",
        "LDAP sync imports users but none of their group memberships",
        "Nested AD groups ignored by the directory connector",
        "New hires don't appear until we trigger a manual directory refresh",
        "How often does the user import from LDAP run and can I force it?",
    ],
    "email_notifications": [
        "Notification emails are never delivered",
        "SMTP relay rejects messages sent by {p}",
        "Alerts used to arrive by mail, stopped after moving to {v}",
        "How do I configure Office 365 as the outgoing mail server?",
        "Password reset mails land in spam or don't arrive at all",
    ],
    "backup_restore": [
        "Restore from last night's backup fails with a checksum mismatch",
        "What is the supported way to back up {p} before an upgrade?",
        "Snapshot restore leaves the instance in read-only mode",
        "Can I move a backup taken on {plat} to a new server?",
        "Backup job runs forever and never finishes on large tenants",
    ],
    "slow_dashboard": [
        "Dashboards take over a minute to load",
        "Reports page is extremely slow since we added more widgets",
        "UI feels sluggish for users in Asia, fine in Europe",
        "{p} web console very slow after upgrading to {v}",
        "Charts spin forever before rendering anything",
    ],
    "api_rate_limit": [
        "Getting HTTP 429 Too Many Requests from the REST API",
        "Our integration is being throttled, what are the call quotas?",
        "Bulk import script hits request limits after a few hundred calls",
        "How to raise the API throttling threshold for a service account?",
        "Responses say retry-after 60 when we sync many records",
    ],
    "timezone_scheduling": [
        "Scheduled jobs run one hour late since daylight saving changed",
        "Cron triggers in {p} use UTC instead of local time",
        "Timestamps in exported reports are shifted by several hours",
        "How do I set the server time zone for the scheduler?",
        "Tasks fire at the wrong time for our Sydney office",
    ],
    "container_crashloop": [
        "Pod is in CrashLoopBackOff right after deployment",
        "Helm chart installs but the container restarts every few seconds",
        "Docker image exits immediately with code 137",
        "Readiness probe fails so the deployment never becomes available on {plat}",
        "Kubernetes keeps restarting {p}, logs show nothing useful",
    ],
    "file_upload_limit": [
        "Uploading attachments bigger than 10 MB fails",
        "413 Request Entity Too Large when importing a spreadsheet",
        "Large file import gets cut off, how to raise the size limit?",
        "Users cannot attach videos to tickets, error about maximum size",
        "Where is the max upload size configured in {p}?",
    ],
    "audit_log_export": [
        "How can we export the audit trail for our compliance team?",
        "Need a record of who changed which setting and when",
        "Is there a way to ship activity logs to our SIEM?",
        "Auditors want user access history for the last 12 months",
        "Splunk forwarding of security events from {p}",
    ],
    "encoding_characters": [
        "Accented characters show up as question marks",
        "Umlauts are garbled after import from CSV",
        "Japanese text turns into mojibake in {p}",
        "Data from the database displays weird symbols instead of é and ñ",
        "UTF-8 names corrupted when exported to Excel",
    ],
    "disk_space_logs": [
        "Log files filled the whole disk on {plat}",
        "How to rotate and purge old logs automatically?",
        "Server stopped because /var is at 100%",
        "Trace logging left on, now there's 80 GB of log data",
        "Can I limit how much storage the diagnostic files use?",
    ],
    "permission_denied_role": [
        "Users with the editor role get access denied on projects",
        "Permission error when a team lead tries to approve requests",
        "403 Forbidden for everyone except administrators after {v}",
        "Custom role doesn't grant the rights it should",
        "How do I let support staff view but not modify records?",
    ],
    "search_index_rebuild": [
        "Search returns nothing for documents added today",
        "Full text index seems stale, how to rebuild it?",
        "Elasticsearch cluster is red and {p} search fails",
        "New records are not findable until a restart",
        "Indexing job crashed and search results are incomplete",
    ],
    "mfa_reset": [
        "User lost their phone and can't pass two-factor authentication",
        "How does an admin reset MFA for somebody?",
        "Authenticator codes are always rejected as invalid",
        "One-time passcodes by SMS never arrive",
        "Enforcing 2FA locked out our service accounts",
    ],
    "webhook_not_firing": [
        "Webhooks are not triggered when an issue is created",
        "Our endpoint never receives the callback from {p}",
        "Outgoing event notifications to Slack stopped working",
        "How do I debug why the HTTP hook isn't called?",
        "Integration events get queued but are never delivered",
    ],
    "install_dependency_missing": [
        "Installer aborts: required library libssl not found on {plat}",
        "Setup complains that .NET Framework 4.8 is missing",
        "Prerequisite check fails, Java 17 not detected although installed",
        "Missing Visual C++ redistributable stops the install",
        "Which packages must be present before installing {p} on {plat}?",
    ],
    "high_cpu": [
        "CPU pegged at 100% by {p} even when idle",
        "One core always busy after the update to {v}",
        "Processor usage spikes every 5 minutes",
        "Host load average very high, top shows the service",
        "Why does the indexer thread eat all the CPU?",
    ],
    "data_import_csv": [
        "CSV import skips rows without any error message",
        "Bulk loading records from a spreadsheet fails on line 1200",
        "Mapping columns during import: date fields are rejected",
        "How do I import 50k contacts from our old system?",
        "Import wizard hangs at 99%",
    ],
    "cluster_node_join": [
        "Second node cannot join the cluster",
        "High availability setup: nodes don't see each other",
        "Split brain after network blip, both nodes think they're primary",
        "Adding a node to the cluster fails with a handshake timeout",
        "How do I configure failover between two {p} instances on {plat}?",
    ],
    "session_timeout": [
        "Users get logged out every few minutes",
        "Session expires while people are still typing a long form",
        "How to extend the idle timeout for the web UI?",
        "We're kicked back to the login page randomly behind the load balancer",
        "Sticky sessions needed? People lose their session between requests",
    ],
    "report_pdf_export": [
        "Exporting a report to PDF produces a blank page",
        "Printed output cuts off the rightmost columns",
        "PDF generation fails with a font error on {plat}",
        "Scheduled report emails arrive with an empty attachment",
        "Can I change the page orientation of exported documents?",
    ],
    "uninstall_cleanup": [
        "How do I completely remove {p} from a server?",
        "Uninstaller leaves services and registry keys behind",
        "Reinstall fails because leftovers of the old install exist",
        "Clean removal steps before we decommission {plat}",
        "Uninstall hangs at 'stopping services'",
    ],
}

# One-off threads: each about something nobody else asks, in its own words.
ONE_OFFS = [
    "Can the welcome banner use our brand colour?",
    "Our logo looks blurry on the login page of the portal",
    "Is there a keyboard shortcut to jump to search?",
    "Where is last month's changelog? The link 404s",
    "Feature idea: let me pin favourite reports to the sidebar",
    "Typo on page 12 of the installation guide (recieve)",
    "How do we join the partner program as a reseller in Chile?",
    "Do training vouchers expire at the end of the fiscal year?",
    "Will the public roadmap be updated after the summit?",
    "Could sales extend our trial by two weeks?",
    "Are there still tickets for the user conference in Lisbon?",
    "Our invoices show the old office address",
    "Can we get stickers for our local meetup?",
    "What do the community badges next to names mean?",
    "Volunteer here: I'd like to translate the FAQ into Polish",
    "Sandbox names are limited to 12 characters, why?",
    "Who is our account manager since Maria left?",
    "The customer survey link in the newsletter is broken",
    "Is there academic pricing for universities?",
    "Certification exam booking page shows no dates",
    "Recording of yesterday's release webinar?",
    "How do I sign up for the beta program?",
    "Is there a podcast where your engineers talk about architecture?",
    "Looking to hire a certified consultant in Bavaria",
    "Colour contrast of the status chips fails WCAG",
    "Does the mobile app support VoiceOver?",
    "Which data centre is our tenant hosted in?",
    "Where can I download the GDPR data processing agreement?",
    "Referral discount when we bring another customer?",
    "We changed our company name, how do we rename the organisation?",
    "Can I subscribe to the status page by SMS?",
    "Support hours during Lunar New Year?",
    "I'd love to give a talk at the next summit, who decides?",
    "How do I print my certificate of completion?",
    "Please merge my two forum accounts",
    "List of open source components and licences in the product?",
    "The weather widget on the demo dashboard shows Fahrenheit",
    "Dark mode for the online handbook would be great",
    "Do you still sell the plush mascot?",
    "Docs show US date format only",
    "Would you sponsor a student hackathon in Nairobi?",
    "Is the sample project on GitHub still maintained?",
    "Cookie banner wording confuses our legal team",
    "Newsletter comes three times a week, too many",
    "Video tutorial on building forms, does one exist?",
    "Can hardware tokens be shipped to Brazil?",
    "We want to pay by bank transfer instead of card",
    "Purchase order number must appear on invoices",
    "Quote for 300 additional seats, please",
    "Where do I send our tax exemption certificate?",
    "Could you fill in our vendor security questionnaire?",
    "Happy to be interviewed for a customer case study",
    "My forum avatar won't update",
    "What does the green dot next to a user mean?",
    "Can we visit your office in Dublin next month?",
    "Lost my coffee mug from the booth, joking, great event!",
    "Congratulations on the 10-year anniversary",
    "Is the conference app available on Android?",
    "Who won the community award this year?",
    "Suggestion: a forum category for job postings",
]



def _fill(template: str, rng: random.Random) -> str:
    return template.format(p=rng.choice(PRODUCTS), v=rng.choice(VERSIONS), plat=rng.choice(PLATFORMS))


def _question(phrasings: list[str], rng: random.Random) -> str:
    # One or two phrasings of the same problem plus a context: real posts mix several descriptions
    first, second = rng.sample(phrasings, 2)
    text = _fill(first, rng)
    if text[-1] not in ".?!" and (context := _fill(rng.choice(CONTEXTS), rng)):
        text += context
    if rng.random() < 0.35:
        text = text.rstrip(".?!") + ". " + _fill(second, rng)
    closer = rng.choice(CLOSERS)
    if closer and text[-1] not in ".?!":
        text += "."
    return rng.choice(OPENERS) + text + closer


def make_support_questions(n_intents: int = 30, per_intent: int = 60, n_one_offs: int = 0,
                           random_state: int = 0) -> tuple[list[str], list[str]]:
    """Return (texts, labels): ``per_intent`` questions for each of ``n_intents`` intents.

    One-off questions (each about a different subject) get the label ``"one-off-<i>"``, each its
    own group.
    """
    if not 1 <= n_intents <= len(INTENTS):
        raise ValueError(f"n_intents must be between 1 and {len(INTENTS)}")
    rng = random.Random(random_state)
    names = sorted(INTENTS)[:n_intents]
    items = [(_question(INTENTS[name], rng), name) for name in names for _ in range(per_intent)]
    if n_one_offs > len(ONE_OFFS):
        raise ValueError(f"at most {len(ONE_OFFS)} one-off questions")
    for i, text in enumerate(rng.sample(ONE_OFFS, n_one_offs)):
        items.append((rng.choice(OPENERS) + text, f"one-off-{i}"))
    rng.shuffle(items)
    return [t for t, _ in items], [label for _, label in items]
