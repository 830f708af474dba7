"""Planted recurring problems 9-12 (OAuth secrets, mail relays, install grants, Lens refresh)."""
from __future__ import annotations

from .spec import Problem

P09 = Problem(
    key="p09", recent_days=180, slug="oauth-secret-rotation",
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

P11 = Problem(
    key="p11", slug="installer-missing-db-grants",
    name="Installer fails: database user lacks required privileges",
    space="installation-upgrades", tags=("installation", "database"), count=26,
    fits=lambda d: d.hosting != "cloud",
    variables={
        "obj": ("LEDGER_AUDIT", "GL_BALANCE_MV", "SEQ_DOCUMENT_NO", "JOB_QUEUE", "V_OPEN_ITEMS"),
        "user": ("LEDGER_APP", "ldg_owner", "erpadmin", "LDGPRD"),
    },
    titles=(
        "Fresh install fails creating {obj}",
        "Installer stops: insufficient privileges on {db}",
        "ORA-01031 during Ledger installation",
        "Install on {db}: permission denied for schema",
        "Schema creation step fails for user {user}",
        "New test environment: installer aborts at 'Creating database objects'",
        "What grants does the Ledger schema user need?",
        "CREATE VIEW permission denied during install",
    ),
    symptoms=(
        "We are setting up a new {env} environment on {db}. The installer gets to 'Creating database objects' "
        "and stops.",
        "Our DBA created the user {user} with the rights we thought were needed, but the installer fails on "
        "the first view / materialized view.",
        "The installer log says the database user is missing a privilege, but not which one.",
        "Tables are created fine, then it fails on {obj}.",
        "The DBA team doesn't give DBA role to application users, so we need the exact list.",
        "The same installer worked on our old server, where the schema user had DBA rights.",
        "Our database is shared with other applications, so the DBAs want the minimum privileges only.",
        "The install runs about ten minutes and then rolls everything back.",
        "We are installing {version} from scratch for a new subsidiary.",
    ),
    errors=(
        "```\nORA-01031: insufficient privileges\nLDG-INS-0117 failed to create {obj}\n```",
        "```\nMsg 262, Level 14, State 1\nCREATE VIEW permission denied in database 'LEDGER'.\n"
        "LDG-INS-0117 failed to create {obj}\n```",
        "`ERROR: permission denied for schema ledger` (LDG-INS-0117)",
        "`ORA-01950: no privileges on tablespace 'LEDGER_DATA'`",
    ),
    tried=(
        "Gave the user CREATE TABLE and CREATE SEQUENCE.",
        "Ran the installer as a local administrator.",
        "Installing with the DBA account works, but we are not allowed to run production like that.",
    ),
    fixes=(
        "The installer ships the exact grant scripts: `installer/db/grants/<database>.sql` (oracle.sql, "
        "sqlserver.sql, postgresql.sql, hana.sql). Let the DBA run the one for {db} as a privileged user, "
        "replacing the user name, then rerun the installer with `--resume`. It includes CREATE VIEW, "
        "CREATE MATERIALIZED VIEW, quota on the tablespace, etc.",
        "Don't guess the grants — use `installer/db/grants/` from the installation media. For Oracle that "
        "includes `QUOTA UNLIMITED ON LEDGER_DATA` and CREATE MATERIALIZED VIEW, which people usually miss.",
        "Run the grants script for your database from `installer/db/grants/` (it's the documented minimum, no "
        "DBA role needed) and restart the installer with `--resume`.",
    ),
    fix_summary="Run the shipped installer/db/grants/<database>.sql script, then resume the installer.",
)

P12 = Problem(
    key="p12", slug="lens-incremental-refresh-full-reload",
    name="Lens incremental refresh does a full reload every night",
    space="reporting", tags=("lens", "refresh"), count=14,
    fits=lambda d: d.product_key == "lens",
    variables={
        "cube": ("Sales", "Finance", "Inventory movements", "Procurement spend", "Projects"),
        "hours": ("5", "7", "3.5", "9"),
    },
    titles=(
        "Incremental refresh of {cube} cube always reloads everything",
        "Lens refresh takes {hours} hours — should be incremental",
        "Watermark ignored, Lens does full load",
        "LNS-REF-0112 watermark mismatch",
        "Nightly cube refresh too slow after upgrade to Lens {version}",
        "{cube} cube: incremental refresh not incremental",
        "Why does Lens reload the whole {cube} cube every night?",
    ),
    symptoms=(
        "We configured the {cube} cube for incremental refresh on the last-modified column, but the log shows a "
        "full reload every night ({hours} hours).",
        "Since Lens {version} the refresh window overruns into business hours.",
        "The refresh log says the stored watermark is 'in the future' and falls back to a full load.",
        "Users find yesterday's figures missing in the morning because the refresh is still running.",
        "The first incremental run after we set it up was fine, every run since has been a full reload.",
        "Our source system stores timestamps in local time, if that matters.",
        "The refresh history shows 'FULL' in the mode column although the cube is set to incremental.",
        "The {cube} cube has grown to a size where a full load no longer fits the night.",
    ),
    errors=(
        "```\nLNS-REF-0112 watermark 2026-05-04T23:00:00 is later than source max 2026-05-04T21:00:12, "
        "falling back to full refresh\n```",
        "`LNS-REF-0112 watermark mismatch, full refresh of {cube}`",
        "```\nINFO refresh {cube}: mode=INCREMENTAL requested\nWARN refresh {cube}: LNS-REF-0112 stored watermark "
        "ahead of source, switching to FULL\nINFO refresh {cube}: 41,203,118 rows loaded in {hours}h\n```",
    ),
    tried=(
        "Reset the watermark manually.",
        "Recreated the cube definition.",
    ),
    fixes=(
        "The watermark is stored in UTC but your source column holds local time, so after the first run the "
        "watermark looks like it is in the future. Set the timezone of the watermark column:\n\n```\n"
        "refresh.incremental.timezone=Europe/Berlin\n```\n\n(or convert the column to UTC) and reset the "
        "watermark once with `lens-admin refresh reset-watermark --cube \"{cube}\"`.",
        "Timezone mismatch between the watermark (UTC) and the source timestamp (local). Set "
        "`refresh.incremental.timezone` for the source, reset the watermark once, and the refresh becomes "
        "incremental again.",
    ),
    fix_summary="Set refresh.incremental.timezone for the source column and reset the watermark once.",
)

PROBLEMS = (P09, P10, P11, P12)
