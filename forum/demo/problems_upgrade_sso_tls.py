"""Planted recurring problems 1-4 (upgrade timeouts, SAML clock skew, legacy TLS, failover locks)."""
from __future__ import annotations

from .spec import Problem

P01 = Problem(
    key="p01", slug="oracle-upgrade-step-timeout",
    name="Upgrade migration step times out on large Oracle schemas",
    space="installation-upgrades", tags=("upgrade", "oracle"), count=38,
    fits=lambda d: d.product_key == "ledger" and d.database.startswith("Oracle"),
    variables={
        "step": ("rebuild_gl_indexes", "convert_ledger_lines", "migrate_subledger_balances",
                 "backfill_audit_trail", "split_journal_partitions"),
        "stepno": ("37", "41", "52", "58", "63"),
        "rows": ("380 million", "1.2 billion", "640 million", "95 million", "2.4 billion", "210 million"),
        "minutes": ("60", "45", "90", "120", "75"),
    },
    titles=(
        "Upgrade to {version} stops at step {stepno} ({step}) with LDG-MIG-4117",
        "LDG-MIG-4117 timeout during database migration on {db}",
        "{prev} -> {version} upgrade hangs then fails on {step}",
        "Migration step {step} times out after {minutes} minutes",
        "Upgrade aborted: 'step exceeded allowed duration' on a big Oracle schema",
        "ledger-admin upgrade fails on large GL tables",
        "Schema upgrade never gets past {step} — Oracle, {rows} journal lines",
        "Upgrade rehearsal failed overnight, migration timeout on Oracle",
        "Stuck upgrade: step {stepno} of 71 keeps timing out",
        "Database migration to {version} too slow / times out",
    ),
    symptoms=(
        "The upgrade from {prev} to {version} runs fine for the first {stepno} steps and then sits on "
        "`{step}` until it is killed after {minutes} minutes.",
        "Our upgrade rehearsal died in the middle of the night on step {stepno} ({step}). Nothing else in the "
        "upgrade log looks wrong.",
        "ledger-admin reports the migration step as timed out, rolls back that step and exits with code 4.",
        "The database side is busy the whole time (lots of full scans on the journal tables), but the "
        "installer gives up before it finishes.",
        "We have about {rows} rows in the general ledger and the step that converts them never completes inside "
        "the window.",
        "On our smaller test copy the same upgrade took 40 minutes end to end. On the production-sized clone it "
        "fails at `{step}`.",
        "Every retry starts the step from the beginning and fails at the same point.",
    ),
    errors=(
        "```\n[upgrade] step {stepno}/71 {step} started\n[upgrade] step {stepno}/71 {step} "
        "LDG-MIG-4117 step exceeded allowed duration ({minutes}m)\n[upgrade] rolling back step {stepno}\n```",
        "```\nLDG-MIG-4117: migration step '{step}' did not complete within migration.step_timeout_seconds\n"
        "  at com.larchmont.ledger.migrate.StepRunner.await(StepRunner.java:212)\n"
        "  at com.larchmont.ledger.migrate.Upgrade.run(Upgrade.java:88)\n```",
        "`ERROR LDG-MIG-4117 timeout in {step}` followed by `ORA-01013: user requested cancel of current "
        "operation`",
        "```\nORA-01013: user requested cancel of current operation\nLDG-MIG-4117 step {stepno} cancelled "
        "after {minutes} min\n```",
        "upgrade.log just says `step {stepno} TIMEOUT (LDG-MIG-4117)`",
    ),
    tried=(
        "We already doubled the SGA on the test server.",
        "Our DBA checked for blocking sessions during the step — there are none.",
        "Tried running it twice, same result both times.",
        "We disabled the archive log mode on the rehearsal database, no change.",
        "Support for the storage team says IO is fine.",
        "I restarted the upgrade with --verbose but that only shows the same timeout.",
    ),
    hints=(
        "Is the Oracle optimizer using stale statistics on the journal tables? That usually makes these steps "
        "crawl.",
        "How big is the undo tablespace? Long migration steps can run out of undo as well.",
        "Are you running the upgrade from the application server or from a jump host? Network latency matters "
        "for some steps.",
    ),
    fixes=(
        "This is the migration step timeout, not a database error. On large Oracle schemas the default "
        "(3600 s) is too short for the ledger conversion steps.\n\n"
        "1. Gather fresh statistics first:\n   `EXEC DBMS_STATS.GATHER_SCHEMA_STATS('LEDGER', degree => 8);`\n"
        "2. Raise the limit in `upgrade.properties`:\n\n```\nmigration.step_timeout_seconds=14400\n```\n"
        "3. Continue where it stopped: `ledger-admin upgrade --resume`\n\n"
        "The step itself is restartable, it picks up from the last committed batch.",
        "We hit exactly this at two customers. Fix: set `migration.step_timeout_seconds` in "
        "`upgrade.properties` to something like 4x the expected duration (we use 14400), gather schema stats "
        "with DBMS_STATS, then `ledger-admin upgrade --resume`. Don't start from scratch, resume.",
        "Known behaviour with big GL tables on Oracle. Two things together fix it:\n\n"
        "- statistics: run `DBMS_STATS.GATHER_SCHEMA_STATS` on the Ledger schema right before the upgrade "
        "(the migration queries depend on them)\n- the timeout: `migration.step_timeout_seconds=14400` in "
        "`upgrade.properties`\n\nThen resume with `ledger-admin upgrade --resume`.",
        "The timeout is configurable: `migration.step_timeout_seconds` (default 3600). Put 14400 in "
        "upgrade.properties, refresh the optimizer stats on the LEDGER schema, and resume the upgrade rather "
        "than rerunning it. The step continues from its last checkpoint.",
    ),
    fix_summary="Gather Oracle schema statistics, raise migration.step_timeout_seconds and resume the upgrade.",
)

P02 = Problem(
    key="p02", slug="saml-clock-skew",
    name="SAML single sign-on rejected because of clock skew",
    space="security-sso", tags=("sso", "saml"), count=32,
    fits=lambda d: d.product_key in ("ledger", "lens"),
    variables={
        "idp": ("Okta", "Microsoft Entra ID", "ADFS", "Ping Identity", "Keycloak", "Shibboleth"),
        "skew": ("47", "95", "38", "130", "61", "212"),
        "pct": ("10%", "a third", "half", "15%", "20%"),
        "tickets": ("40", "a dozen", "over 100", "30-odd"),
    },
    titles=(
        "SSO-221 'assertion is not yet valid' for some users",
        "SAML login fails intermittently with {idp}",
        "Users get bounced back to the login page after {idp} sign-in",
        "SSO broken after upgrade to {version}: NotBefore condition fails",
        "Random SAML errors — 'Assertion expired' although user just logged in",
        "{idp} SSO works on one node but not the other",
        "Intermittent single sign-on failures since the weekend",
        "SAML response rejected: NotOnOrAfter",
        "Login loop with {idp} on {version}",
        "SAML: assertion rejected although {idp} trace looks fine",
        "SSO fails with 'not yet valid' — only on one node",
        "{idp} login error SSO-221 a few times per day",
    ),
    symptoms=(
        "Roughly {pct} of our login attempts end on an error page saying the assertion is not yet valid; a retry "
        "a minute later usually works.",
        "Since we moved to {version}, SSO via {idp} fails for some users with SSO-221.",
        "Users authenticate fine at {idp}, come back to Ledger and get 'Single sign-on failed, please contact "
        "your administrator'.",
        "It only happens when the load balancer sends the user to the second application node.",
        "The SAML trace looks perfect: signature valid, audience correct, but Ledger rejects it anyway.",
        "Our helpdesk got {tickets} login tickets this week, all SSO.",
    ),
    errors=(
        "```\nSSO-221 SAML assertion rejected: condition NotBefore=2026-03-12T08:14:{skew}Z is in the future "
        "(now=2026-03-12T08:13:59Z, allowed skew 30s)\n```",
        "`SSO-221 Assertion is not yet valid (skew {skew}s)`",
        "```\nWARN  saml.Validator - Assertion expired: NotOnOrAfter 07:02:10Z < now 07:04:{skew}Z\n"
        "ERROR auth.SsoFilter - SSO-221 rejecting response from {idp}\n```",
        "The security log shows `SSO-221 condition check failed (NotBefore)` for every failed attempt.",
    ),
    tried=(
        "We re-imported the {idp} metadata and certificate.",
        "Cleared browser cookies, tried incognito, same thing.",
        "We checked the audience URI and ACS URL three times.",
        "Restarting the app server fixes it for a day or so.",
        "Turned on debug logging for the SAML module.",
    ),
    hints=(
        "Check that the ACS URL in {idp} matches the node the load balancer forwards to.",
        "Is the signing certificate in {idp} about to expire? That caused weird errors for us once.",
    ),
    fixes=(
        "Look at the time on your application nodes. The assertion is valid, but the node's clock is "
        "{skew} seconds off and since 2025.1 Ledger only allows 30 seconds of skew.\n\n"
        "- enable NTP/chrony on every app node (`chronyc tracking` shows the offset)\n"
        "- optionally widen the tolerance in `security.properties`:\n\n```\nsso.saml.allowed_clock_skew=120\n```",
        "Clock skew. One of the nodes drifts; the IdP issues NotBefore = its current time and Ledger thinks that "
        "is in the future. Fix the time sync (chrony/w32time) on the app servers and set "
        "`sso.saml.allowed_clock_skew=120` as a safety margin. Restart not needed for the property since 2025.2.",
        "SSO-221 is the time check. Sync the clocks of the app nodes to the same NTP source as {idp}, and raise "
        "`sso.saml.allowed_clock_skew` from the default 30 to 120 seconds in security.properties.",
        "We saw this at several customers after 2025.1 tightened the default skew to 30 s. Put all nodes on "
        "NTP and add `sso.saml.allowed_clock_skew=120` — the errors stop immediately.",
    ),
    fix_summary="Synchronise the app nodes' clocks with NTP and set sso.saml.allowed_clock_skew=120.",
)

P03 = Problem(
    key="p03", recent_days=240, slug="connector-tls-legacy",
    name="Bridge connector fails after TLS 1.0/1.1 were disabled",
    space="integrations", tags=("bridge", "tls", "connectors"), count=30,
    fits=lambda d: d.product_key == "bridge" or bool(d.integrations),
    variables={
        "target": ("SAP S/4HANA", "Salesforce", "the bank SFTP gateway", "Workday", "ServiceNow", "Coupa",
                   "our EDI provider", "Dynamics 365"),
        "bver": ("7.2", "7.3", "8.0"),
        "conn": ("REST connector", "SOAP connector", "JDBC connector", "AS2 adapter", "HTTP push connector"),
    },
    titles=(
        "Connector to {target} fails with handshake_failure since Monday",
        "BRG-CONN-0503 after security team disabled TLS 1.1",
        "Bridge {bver}: SSLHandshakeException 'No appropriate protocol'",
        "{conn} stopped working after server hardening",
        "Integration to {target} broken — TLS error in Bridge agent log",
        "All outbound Bridge interfaces failing after TLS policy change",
        "Bridge cannot connect to {target} anymore (protocol_version alert)",
        "TLS 1.2 only — Bridge {conn} cannot connect",
    ),
    symptoms=(
        "Our security team disabled TLS 1.0 and 1.1 on the network appliances over the weekend. Since then the "
        "{conn} to {target} fails on every run.",
        "Every message to {target} ends up in the error queue with a handshake failure.",
        "The interface to {target} has been stable for two years and suddenly every call fails at connect time.",
        "Inbound calls still work but everything Bridge sends out fails.",
        "The Bridge agent on {os} logs a handshake error for each attempt and retries forever.",
        "Only the older interfaces (created on Bridge {bver}) are affected; new ones work.",
    ),
    errors=(
        "```\nBRG-CONN-0503 connection to endpoint failed: Received fatal alert: handshake_failure\n```",
        "```\njavax.net.ssl.SSLHandshakeException: No appropriate protocol (protocol is disabled or cipher "
        "suites are inappropriate)\n    at sun.security.ssl.HandshakeContext.<init>(HandshakeContext.java:170)"
        "\n    at com.larchmont.bridge.http.Connector.open(Connector.java:311)\n```",
        "`BRG-CONN-0503 TLS negotiation failed (server requires TLSv1.2)`",
        "```\n[agent] BRG-CONN-0503 {conn} -> {target}: protocol_version alert\n[agent] retry 5/5 failed, "
        "message moved to error queue\n```",
    ),
    tried=(
        "Re-imported the {target} certificate into the Bridge truststore.",
        "Restarted the Bridge agent service.",
        "curl from the same server to {target} works fine with TLS 1.2.",
        "We asked the network team to temporarily re-enable TLS 1.1 and then it works again, so it is "
        "definitely that.",
    ),
    hints=(
        "Check the certificate chain of {target}; an intermediate may be missing.",
        "Which Java does the agent use? `bridge-agent --version` prints it.",
    ),
    fixes=(
        "Connectors created before Bridge 8.0 have their TLS protocol list pinned in the connector profile. "
        "Edit the profile (or `connector.properties`) and set:\n\n```\nconnector.tls.protocols=TLSv1.2,TLSv1.3\n"
        "```\n\nThen restart the agent. On 7.x also make sure the agent runs the bundled JRE 17, not an old "
        "system Java 8.",
        "The old connector profiles still say `connector.tls.protocols=TLSv1,TLSv1.1`. Change it to "
        "`TLSv1.2,TLSv1.3` for each affected connector and restart the Bridge agent. New connectors default "
        "to 1.2 already, which is why they work.",
        "Pinned protocol list in the connector profile. Set `connector.tls.protocols=TLSv1.2,TLSv1.3` "
        "(Bridge admin → Connectors → Advanced, or the properties file), restart the agent, and upgrade "
        "the agent's JRE if it is still Java 8.",
    ),
    fix_summary="Set connector.tls.protocols=TLSv1.2,TLSv1.3 in old connector profiles and restart the agent.",
)

P04 = Problem(
    key="p04", slug="ha-failover-stale-lock",
    name="HA failover leaves a stale scheduler lock; jobs stop running",
    space="operations", tags=("high-availability", "scheduler"), count=22,
    fits=lambda d: d.product_key == "ledger" and d.topology != "single node",
    variables={
        "node": ("node-a", "app01", "erp-prd-1", "ldgapp-n1", "primary"),
        "hours": ("6", "14", "two", "9", "36"),
        "job": ("the nightly GL posting", "bank statement import", "MRP run", "dunning run", "all scheduled jobs"),
    },
    titles=(
        "No scheduled jobs run after HA failover",
        "LDG-SCH-1302 'lock held by {node}' after failover",
        "Scheduler stuck after the primary node crashed",
        "Jobs queue up but never start on the secondary",
        "After failover test {job} did not run",
        "Stale scheduler lock on {topology}",
        "Scheduler lock not released when node dies",
        "{job} not running since {node} went down",
        "Scheduler says lock owner is {node}, but {node} is offline",
        "HA pair: scheduler does not fail over",
        "Batch scheduler frozen after switchover",
    ),
    symptoms=(
        "We did a failover test: the secondary took over the UI fine but {job} never started. The jobs just "
        "sit in 'Waiting'.",
        "{node} crashed during the night, the other node took over, and no job has run for {hours} hours.",
        "The scheduler page says the lock is held by {node}, which is powered off.",
        "Jobs pile up in the queue after every failover until someone restarts both nodes.",
        "After patching we switched roles between the nodes and the scheduler stopped working.",
        "Monday morning finance noticed that nothing had been posted over the weekend; the failover happened "
        "on Saturday.",
        "The UI is fully usable on the secondary, it's only background processing that is dead.",
        "Manual runs of {job} work, scheduled runs never start.",
        "Our monitoring only caught it because the bank import file was still sitting in the inbox at noon.",
    ),
    errors=(
        "```\nLDG-SCH-1302 scheduler lock is held by {node} (lease acquired 02:14:07), waiting\n```",
        "`WARN scheduler.Coordinator - LDG-SCH-1302 cannot acquire lock, owner={node}`",
        "```\nINFO  Coordinator  trying to become scheduler leader\nWARN  Coordinator  LDG-SCH-1302 lock owner "
        "{node} still registered, backing off 60s\n```",
    ),
    tried=(
        "Restarting the surviving node did not help.",
        "We checked the cluster heartbeat, it shows one node as expected.",
        "Killing the job and resubmitting it: it goes back to Waiting.",
    ),
    fixes=(
        "The scheduler lock is a database lease that only the owner releases. When {node} dies hard it "
        "stays. Release it with:\n\n```\nledger-admin scheduler release-lock --stale\n```\n\nTo stop it "
        "happening again set a lease so a dead owner expires:\n\n```\nscheduler.lock.lease_seconds=300\n```\n"
        "(patch 2025.2.3 and later honour this).",
        "Known issue: stale lock after unclean failover. `ledger-admin scheduler release-lock --stale` clears "
        "it right away; `scheduler.lock.lease_seconds=300` in ledger.properties makes the lock expire on its "
        "own after a crash.",
        "Run `ledger-admin scheduler release-lock --stale` on the surviving node, then configure "
        "`scheduler.lock.lease_seconds` (we use 300) and install 2025.2.3+ so failovers release it "
        "automatically.",
    ),
    fix_summary="Release the lock with ledger-admin scheduler release-lock --stale and set scheduler.lock.lease_seconds.",
)

PROBLEMS = (P01, P02, P03, P04)
