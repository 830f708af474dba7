"""Planted recurring problems 6-10 (licensing, character sets, exports, OAuth secrets, mail)."""
from __future__ import annotations

from .spec import Problem

P06 = Problem(
    key="p06", slug="license-server-proxy",
    name="License server unreachable behind an outbound proxy",
    space="operations", tags=("licensing", "proxy"), count=18,
    fits=lambda d: d.hosting in ("on_premises", "hybrid"),
    variables={
        "proxy": ("proxy.corp.local:3128", "10.20.0.15:8080", "webgw.internal:80", "squid01:3128"),
        "days": ("14", "7", "3", "10"),
    },
    titles=(
        "LIC-0007 license server unreachable",
        "Ledger switched to grace period — cannot reach licence server",
        "Banner says 'licence check failed, {days} days remaining'",
        "License validation fails since we route traffic through a proxy",
        "Licence server not reachable from {os} app server",
        "Product went read-only: license check failing",
        "Licence check through {proxy} fails",
        "Grace period warning — licence client ignores our proxy",
        "How to make the licence check use a proxy?",
    ),
    symptoms=(
        "Admins see a red banner: the licence could not be validated and the system runs in grace mode with "
        "{days} days left.",
        "All outbound traffic now has to go through {proxy}. Everything else works, only the licence check "
        "fails.",
        "The server has the system proxy configured (environment variables and /etc/environment) but the "
        "licence client does not seem to use it.",
        "This morning the system went into read-only mode because the grace period ran out.",
        "Firewall team opened the licence host for us but the check still fails.",
        "The network team confirmed that direct outbound HTTPS is blocked by design; only the proxy may go out.",
        "After the data-centre move the licence status turned yellow and it has not recovered since.",
        "Our proxy log shows no request at all from the Ledger server, so it never even tries the proxy.",
        "Users see a warning at login that the licence will expire in {days} days.",
    ),
    errors=(
        "```\nLIC-0007 license server lic.larchmont.example:443 unreachable (connect timed out)\n```",
        "`LIC-0007 validation failed: java.net.SocketTimeoutException: connect timed out`",
        "```\nWARN  license.Client  LIC-0007 no route to license server, grace period {days} days\n```",
    ),
    tried=(
        "Set HTTPS_PROXY and https_proxy for the service user.",
        "We can open the licence URL in a browser on the same server.",
        "Restarted the licence client service.",
    ),
    fixes=(
        "The licence client ignores the OS proxy settings. Configure it explicitly in `license.properties`:"
        "\n\n```\nlicense.proxy.host=proxy.corp.local\nlicense.proxy.port=3128\n"
        "license.proxy.nonProxyHosts=localhost|*.internal\n```\n\nThen `ledger-admin license check`. If the "
        "proxy needs authentication, use `license.proxy.user`/`license.proxy.password`, or request an offline "
        "licence file.",
        "The licence client has its own proxy settings: `license.proxy.host` and `license.proxy.port` in "
        "license.properties. Env variables are not read. After setting them run `ledger-admin license check` "
        "and the banner goes away.",
        "Set `license.proxy.host`/`license.proxy.port` (license.properties) to {proxy} — the client does not "
        "use HTTPS_PROXY. Fully offline sites can use an offline licence file instead.",
    ),
    fix_summary="Configure license.proxy.host/port in license.properties (the OS proxy is ignored).",
)

P07 = Problem(
    key="p07", slug="charset-corruption-after-migration",
    name="Character-set corruption after a database migration",
    space="databases", tags=("database", "encoding", "migration"), count=24,
    fits=lambda d: d.product_key == "ledger",
    variables={
        "word,bad": (("Müller", "MÃ¼ller"), ("Société Générale", "Soci?t? G?n?rale"), ("Łódź", "?ód?"),
                     ("Ørsted", "Ã˜rsted"), ("São Paulo", "SÃ£o Paulo"), ("Straße", "StraÃŸe"),
                     ("Café Noël", "CafÃ© NoÃ«l")),
        "source": ("Oracle 12c (WE8MSWIN1252)", "Oracle 11g (WE8ISO8859P1)", "SQL Server 2014 (Latin1_General)",
                   "an old Oracle 19c with WE8ISO8859P15"),
    },
    titles=(
        "Special characters broken after moving to {db}",
        "Umlauts show as '{bad}' after database migration",
        "Names with accents corrupted after migrating from {source}",
        "Encoding problem: '{word}' became '{bad}'",
        "Question marks instead of accented letters after datamove",
        "Mojibake in customer names after migration to {db}",
        "Character set issue after moving Ledger to a new database",
    ),
    symptoms=(
        "After migrating our Ledger database from {source} to {db}, supplier and customer names with accents "
        "are broken: '{word}' shows as '{bad}'.",
        "Everything ASCII is fine. Anything with an accent in master data is mangled.",
        "Invoices printed since the migration show garbage characters in addresses.",
        "Only data that was migrated is affected, records created after the move look correct.",
        "Bank files rejected by the bank because the payee name contains '{bad}'.",
        "Search for '{word}' finds nothing, searching for '{bad}' finds the record.",
        "Our German and French subsidiaries noticed it first: street names and contact names look garbled.",
        "Reports in Lens show the broken names as well, so it's in the data, not the screen.",
        "A few records are even truncated because the broken characters take more bytes than the column allows.",
    ),
    errors=(
        "```\nSELECT name FROM supplier WHERE id = 40211;\n-> {bad}\n```",
        "`LDG-IMP-0310 value could not be converted to the database character set` in the datamove log",
        "Bank portal error: `invalid character in field 59 (beneficiary name)`",
    ),
    tried=(
        "Changed the client encoding of our SQL tool, same result.",
        "The source database still shows '{word}' correctly.",
        "We re-ran the datamove for one table and it came out identical.",
    ),
    hints=(
        "What does `SELECT * FROM nls_database_parameters` say on the new database?",
        "Check the font on the printer / PDF template first.",
    ),
    fixes=(
        "The export was read with the wrong source character set, so the bytes were converted twice. Re-run "
        "the move with the source charset stated explicitly:\n\n```\nledger-admin datamove --source-charset "
        "WE8MSWIN1252 --target-charset AL32UTF8\n```\n\nIf you cannot redo the move, repair the affected "
        "tables in place:\n\n```\nledger-admin repair-encoding --from WE8MSWIN1252 --table SUPPLIER --table "
        "CUSTOMER\n```",
        "Double conversion during datamove. Use `--source-charset` with the real source charset (for Oracle, "
        "NLS_CHARACTERSET of the old db), or fix existing data with `ledger-admin repair-encoding --from "
        "<old charset>` on the master data tables. Test on a copy first.",
        "This is what happens when the datamove assumes the source is UTF-8. `ledger-admin repair-encoding` "
        "(2025.1+) fixes the stored values table by table; for future moves always pass `--source-charset`.",
    ),
    fix_summary="Redo the datamove with --source-charset, or run ledger-admin repair-encoding on affected tables.",
)

P08 = Problem(
    key="p08", slug="report-export-timeout",
    name="Large report exports time out",
    space="reporting", tags=("reports", "export"), count=28,
    fits=lambda d: d.product_key in ("ledger", "lens"),
    variables={
        "report": ("trial balance", "open items list", "inventory valuation", "aged receivables",
                   "sales by customer", "asset register", "GL detail"),
        "fmt": ("Excel", "PDF", "CSV", "XLSX"),
        "rows": ("80,000", "250k", "1.4 million", "400,000", "60k"),
        "secs": ("60", "120", "90", "300"),
    },
    titles=(
        "Exporting the {report} to {fmt} times out",
        "504 Gateway Timeout when exporting large reports",
        "LNS-EXP-0408 render timeout after {secs}s",
        "{fmt} export of {report} never finishes",
        "Report export fails for more than ~{rows} rows",
        "Big exports fail since we put nginx in front",
        "Export spinner forever then error page",
        "Year-end {report} export keeps failing",
    ),
    symptoms=(
        "Small exports are fine, but the {report} for the full year ({rows} rows) fails after about {secs} "
        "seconds.",
        "Users click Export to {fmt}, the spinner runs for a while and then they get a 504 error page.",
        "The export works when we run it directly on the app server, but not through the reverse proxy.",
        "Auditors need the complete {report} in {fmt} and we cannot produce it.",
        "Exports of more than roughly {rows} lines never arrive in the download folder.",
    ),
    errors=(
        "```\n504 Gateway Time-out\nnginx\n```",
        "`LNS-EXP-0408 render timeout after {secs}s (report={report}, format={fmt})`",
        "```\nERROR export.Renderer - LNS-EXP-0408 render timeout after {secs}s\nWARN  http - client "
        "disconnected before response was written\n```",
    ),
    tried=(
        "Raised proxy_read_timeout to 600 — now it just hangs longer.",
        "Tried in another browser.",
        "Filtering by quarter works, but we need the full year in one file.",
        "Asked users to export in the evening, same result.",
    ),
    hints=(
        "Maybe the report has a very expensive calculated column? Try removing it.",
        "Is the temp directory on the app server full?",
    ),
    fixes=(
        "Big exports should not run inside the web request at all. Turn on asynchronous exports:\n\n```\n"
        "reports.export.async=true\nreports.export.async_threshold_rows=50000\n```\n\nThe user then gets a "
        "notification and the file lands in *My exports* when it is ready; proxy timeouts no longer matter.",
        "Enable `reports.export.async=true` (reporting.properties). Exports above the threshold go to the "
        "background queue and the user downloads the file from My exports. Raising the proxy timeout only "
        "moves the problem.",
        "Switch exports to async mode (`reports.export.async=true`, threshold around 50k rows). Since then "
        "our {rows}-row {report} exports complete in the background without errors.",
    ),
    fix_summary="Enable reports.export.async=true so large exports run in the background queue.",
)

P09 = Problem(
    key="p09", slug="oauth-secret-rotation",
    name="Bridge API calls fail with 401 after an OAuth client secret rotation",
    space="integrations", tags=("bridge", "oauth", "api"), count=20,
    fits=lambda d: d.product_key == "bridge" or "Microsoft Entra ID" in d.integrations or "Okta" in d.integrations,
    variables={
        "idp": ("Microsoft Entra ID", "Okta", "Ping Identity", "Salesforce"),
        "hours": ("24", "12", "about 8", "48"),
    },
    titles=(
        "Bridge API calls get 401 after client secret was rotated",
        "invalid_client / invalid_grant from {idp} since secret rotation",
        "Integrations unauthorised after we renewed the app registration secret",
        "Bridge still uses the old OAuth secret",
        "401 Unauthorized on all outbound calls after credential change",
        "Token refresh fails in Bridge after secret rollover",
        "BRG-AUTH-0401 after rotating the {idp} client secret",
        "New client secret not picked up by Bridge for {hours} hours",
        "Secret rotation breaks all interfaces until restart",
        "How do we rotate OAuth secrets without downtime in Bridge?",
        "AADSTS7000215 invalid client secret — but the secret is new and correct",
    ),
    symptoms=(
        "Our security policy rotates client secrets every 90 days. Yesterday {idp} got a new secret and all "
        "Bridge calls now fail with 401.",
        "We updated the secret in the Bridge credential store, but Bridge keeps sending the old one.",
        "It fixes itself after {hours} hours, which is not acceptable for order interfaces.",
        "Restarting the whole Bridge cluster helps, but we don't want to do that every rotation.",
        "The order interface to our webshop stopped at exactly the time the old secret was deleted in {idp}.",
        "Token requests with the new secret work from Postman, but Bridge keeps failing.",
        "Every 90 days the same outage, and each time it goes away on its own the next day.",
        "The credential shows the new secret in the Bridge admin UI, but the connector log says the old one "
        "was used.",
    ),
    errors=(
        "```\nBRG-AUTH-0401 token request rejected by {idp}: invalid_client (AADSTS7000215: Invalid client "
        "secret provided)\n```",
        "`HTTP 401 {{\"error\":\"invalid_grant\"}}` in the connector trace",
        "```\nWARN  oauth.TokenCache  using cached credentials for client bridge-prod\nERROR connector  "
        "BRG-AUTH-0401 401 Unauthorized\n```",
    ),
    tried=(
        "Double-checked the new secret by requesting a token with curl, works.",
        "Deleted and recreated the credential entry.",
        "Checked the API permissions of the app registration — unchanged.",
        "Waited an hour in case it was replication on the {idp} side.",
    ),
    fixes=(
        "Bridge caches client credentials (not just tokens) for 24 hours. After rotating, reload them:\n\n"
        "```\nbridge-admin credentials reload --all\n```\n\nand lower `oauth.credential_cache_ttl` (e.g. 300) "
        "if you rotate often. Better: keep the old secret valid for a day after adding the new one.",
        "Run `bridge-admin credentials reload --all` after changing a secret — the credential cache lives "
        "24 h otherwise. You can shorten it with `oauth.credential_cache_ttl` in bridge.properties.",
        "It's the credential cache. `bridge-admin credentials reload` picks up the new secret without a "
        "restart; set `oauth.credential_cache_ttl=300` so it never sticks for a day again.",
    ),
    fix_summary="Run bridge-admin credentials reload after rotation and lower oauth.credential_cache_ttl.",
)

P10 = Problem(
    key="p10", slug="smtp-starttls-auth",
    name="Notification mail fails: SMTP relay requires STARTTLS and authentication",
    space="operations", tags=("email", "smtp"), count=16,
    fits=lambda d: d.product_key == "ledger",
    variables={
        "relay": ("Exchange Online", "our Postfix relay", "SendGrid", "the O365 relay", "Mailgun"),
        "mails": ("approval emails", "payment advices", "password reset mails", "workflow notifications",
                  "purchase orders"),
    },
    titles=(
        "{mails} not being sent anymore",
        "LDG-MAIL-0220 when sending mail through {relay}",
        "SMTP 535 5.7.3 Authentication unsuccessful",
        "Outgoing mail fails after mail relay change",
        "Notifications stuck in mail queue",
        "'Must issue a STARTTLS command first' from {relay}",
    ),
    symptoms=(
        "Since IT moved us to {relay}, Ledger cannot send {mails}. The mail queue keeps growing.",
        "Users complain that they no longer receive {mails}.",
        "Test mail from the admin console fails immediately.",
        "We changed the SMTP host and port to the new relay, but no mail goes out.",
        "Approvers are not notified, so invoices pile up unapproved.",
        "The outbound mail queue in the admin console has a few thousand entries marked 'retrying'.",
        "It broke on the day Microsoft switched off basic authentication for our tenant.",
        "Password reset mails never arrive, which is how we noticed.",
    ),
    errors=(
        "```\nLDG-MAIL-0220 SMTP send failed: 530 5.7.0 Must issue a STARTTLS command first\n```",
        "`LDG-MAIL-0220 535 5.7.3 Authentication unsuccessful`",
        "```\n[mail-sender] LDG-MAIL-0220 delivery failed (attempt 12): 530 5.7.57 Client not authenticated "
        "to send mail\n[mail-sender] 2,318 messages waiting\n```",
        "```\njavax.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful, basic "
        "authentication is disabled\n```",
    ),
    tried=(
        "Telnet to port 25 works from the server.",
        "The same credentials work in Outlook.",
        "Our mail team whitelisted the server's IP on the relay.",
        "Sent a test with swaks from the server, it only works with --tls.",
    ),
    fixes=(
        "Set the mail settings to submission with STARTTLS:\n\n```\nmail.smtp.port=587\n"
        "mail.smtp.starttls=required\nmail.smtp.auth=true\n```\n\nFor Exchange Online basic auth is off — "
        "use `mail.smtp.auth.mechanism=XOAUTH2` (2025.2+) or an SMTP relay connector without auth.",
        "Port 587, `mail.smtp.starttls=required` and `mail.smtp.auth=true` in ledger.properties. With "
        "{relay} you may also need OAuth (`mail.smtp.auth.mechanism=XOAUTH2`).",
        "The default is plain SMTP on 25 without TLS. Change to 587 + `mail.smtp.starttls=required`; then the "
        "queue flushes by itself within a few minutes.",
    ),
    fix_summary="Use port 587 with mail.smtp.starttls=required and authentication (XOAUTH2 for Exchange Online).",
)

PROBLEMS = (P06, P07, P08, P09, P10)
