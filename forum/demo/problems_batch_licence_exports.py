"""Planted recurring problems 5-8 (batch memory, licence proxy, character sets, report exports)."""
from __future__ import annotations

from .spec import Problem

P05 = Problem(
    key="p05", slug="batch-out-of-memory",
    name="Nightly batch job runs out of memory",
    space="performance", tags=("batch", "memory"), count=34,
    fits=lambda d: d.product_key == "ledger",
    variables={
        "job": ("GL posting", "MRP run", "revaluation", "intercompany settlement", "payment proposal",
                "period-end accruals", "inventory costing"),
        "heap": ("8g", "12g", "16g", "6g", "24g"),
        "docs": ("180k", "2.3 million", "600k", "950k", "45k"),
    },
    titles=(
        "{job} batch dies with OutOfMemoryError",
        "Nightly {job} fails: worker exited 137",
        "LDG-BAT-0091 during {job}",
        "Java heap space in batch worker since {version}",
        "Batch job killed by OOM killer on {os}",
        "{job} runs out of memory at month end",
        "Out of memory in nightly jobs after data volume grew",
        "Batch worker crashes — increased Xmx, still crashes",
    ),
    symptoms=(
        "The nightly {job} has started failing. It processes around {docs} documents and dies about two "
        "thirds through.",
        "At month end the {job} job fails with an out-of-memory error; on normal days it passes.",
        "The batch worker process disappears and the job shows 'Failed (worker lost)'. dmesg shows the OOM "
        "killer.",
        "Since the upgrade to {version} the {job} needs far more memory than before.",
        "We raised the app server heap to {heap} but the job still crashes.",
    ),
    errors=(
        "```\nLDG-BAT-0091 batch worker exited with status 137 (job {job})\n```",
        "```\nException in thread \"batch-worker-3\" java.lang.OutOfMemoryError: Java heap space\n"
        "    at com.larchmont.ledger.batch.ChunkReader.readAll(ChunkReader.java:144)\n"
        "    at com.larchmont.ledger.batch.Step.execute(Step.java:97)\n```",
        "`java.lang.OutOfMemoryError: GC overhead limit exceeded` in batch-worker.log",
        "```\nkernel: Out of memory: Killed process 48211 (java) total-vm:31GB\nLDG-BAT-0091 worker lost\n```",
    ),
    tried=(
        "Increased -Xmx for the application server to {heap}.",
        "Split the job by company code, which works but takes forever.",
        "Added swap to the server.",
        "Restarted the server before the job so it starts with a clean heap.",
    ),
    hints=(
        "Do you have a custom extension hooked into the {job}? Those sometimes hold on to documents.",
        "Check if the job is set to 'single transaction' mode.",
    ),
    fixes=(
        "The batch jobs run in their own worker JVM, so the app server `-Xmx` does nothing for them. Two "
        "settings in `batch-worker.conf`:\n\n```\nbatch.chunk_size=500\nbatch.worker.jvm_opts=-Xmx{heap}\n```\n\n"
        "The default chunk size of 5000 loads far too much per chunk with large documents. 500 is usually "
        "faster overall, not slower.",
        "Lower `batch.chunk_size` (500 works well) and give the batch worker its own heap via "
        "`batch.worker.jvm_opts` in batch-worker.conf. Raising the app server heap doesn't help; the worker "
        "is a separate JVM.",
        "Classic. The worker JVM has its own memory settings — `batch.worker.jvm_opts` in batch-worker.conf — "
        "and the chunk size decides how much it holds at once. Set `batch.chunk_size=500`, worker heap to "
        "{heap}, restart the batch service.",
    ),
    fix_summary="Lower batch.chunk_size and size the separate batch worker heap in batch-worker.conf.",
)

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

PROBLEMS = (P05, P06, P07, P08)
