"""Planted recurring problems 13-15 (SQL Server deadlocks, sessions behind load balancers, pools)."""
from __future__ import annotations

from .spec import Problem

P13 = Problem(
    key="p13", slug="sqlserver-posting-deadlocks",
    name="Deadlocks on SQL Server during concurrent posting",
    space="performance", tags=("sql-server", "deadlock", "posting"), count=22,
    fits=lambda d: d.product_key == "ledger" and d.database.startswith("SQL Server"),
    variables={
        "what": ("invoice posting", "goods receipts", "cash application", "journal import", "payroll postings"),
        "users": ("15", "40", "a dozen", "60"),
    },
    titles=(
        "Deadlock victim errors when posting {what}",
        "SQL Server error 1205 in Ledger",
        "Transaction was deadlocked — concurrent {what}",
        "Posting fails randomly when many users post at once",
        "Deadlocks since go-live on {db}",
        "LDG-DB-1205 errors at month end",
        "Error 1205 when two users post {what} together",
        "Frequent deadlocks on {db}, chosen as deadlock victim",
        "{what}: 'Rerun the transaction' errors",
        "Posting retries needed daily — SQL Server deadlocks",
    ),
    symptoms=(
        "When {users} users post {what} at the same time, some of them get an error and have to retry.",
        "The error appears several times a day, always during {what}.",
        "Our DBA captured the deadlock graph: two sessions updating document number sequences and balances.",
        "On our old Oracle system this never happened; since moving to {db} it happens daily.",
        "Users see a red error at the end of posting and the document stays in draft.",
        "It gets much worse on the last two days of the month.",
        "The integration that imports bank statements fails with the same error when users are posting.",
        "Retrying always works, so it's not the data.",
    ),
    errors=(
        "```\nLDG-DB-1205 Transaction (Process ID 87) was deadlocked on lock resources with another process "
        "and has been chosen as the deadlock victim. Rerun the transaction.\n```",
        "`com.microsoft.sqlserver.jdbc.SQLServerException: Transaction (Process ID 112) was deadlocked` "
        "(error 1205)",
        "```\n<deadlock>\n  <victim-list><victimProcess id=\"process2a\"/></victim-list>\n  <resource-list>"
        "\n    <keylock objectname=\"LEDGER.dbo.DOC_SEQUENCE\" mode=\"X\"/>\n    <keylock objectname="
        "\"LEDGER.dbo.GL_BALANCE\" mode=\"U\"/>\n  </resource-list>\n</deadlock>\n```",
    ),
    tried=(
        "Rebuilt all indexes.",
        "Reduced the number of posting workers to 2.",
        "Updated statistics with FULLSCAN.",
    ),
    fixes=(
        "Ledger expects read-committed snapshot isolation on SQL Server; without it readers and writers "
        "block each other and the posting pattern deadlocks. In a maintenance window:\n\n```\nALTER DATABASE "
        "LEDGER SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE;\n```\n\nIt is in the installation "
        "guide's SQL Server checklist but easy to miss on migrated databases.",
        "Enable `READ_COMMITTED_SNAPSHOT` on the Ledger database. That's a prerequisite for SQL Server and "
        "removes these deadlocks almost completely.",
        "Check `SELECT is_read_committed_snapshot_on FROM sys.databases` — if it's 0, turn it on "
        "(`ALTER DATABASE ... SET READ_COMMITTED_SNAPSHOT ON`). That fixed it at every customer we've seen.",
    ),
    fix_summary="Turn on READ_COMMITTED_SNAPSHOT for the Ledger database on SQL Server.",
)

P14 = Problem(
    key="p14", slug="cluster-session-logouts",
    name="Users logged out randomly behind a load balancer (no sticky sessions)",
    space="operations", tags=("cluster", "sessions", "load-balancer"), count=30,
    fits=lambda d: d.topology != "single node",
    variables={
        "lb": ("F5", "HAProxy", "nginx", "an Azure Application Gateway", "AWS ALB", "NetScaler"),
        "mins": ("two", "5", "10", "few"),
    },
    titles=(
        "Users logged out every few minutes since moving to {topology}",
        "Random session expiry behind {lb}",
        "'Your session has expired' after a couple of clicks",
        "Lost form data — users kicked back to login",
        "Session timeout issues on the new cluster",
        "Users randomly get the login page (load balanced)",
        "LDG-SES-0401 session not found",
        "Sessions lost when {lb} switches nodes",
        "Users complain about being logged out constantly after the move to HA",
        "Do we need sticky sessions for Ledger on {lb}?",
        "Logged out mid-entry, 'session not found'",
        "Session drops every {mins} minutes on the load-balanced setup",
    ),
    symptoms=(
        "Since we moved to a {topology} behind {lb}, users are thrown back to the login page every {mins} "
        "minutes.",
        "Half-filled forms are lost because the session disappears mid-entry.",
        "It never happens when we point the hosts file at one node directly.",
        "Session timeout is set to 60 minutes, but users get logged out far sooner.",
        "Some users get logged out after two clicks, others work all day without a problem.",
        "Since the go-live on the new hardware our helpdesk gets dozens of 'I was kicked out' tickets a day.",
        "Half-entered purchase orders are gone when people come back to the login screen.",
        "The browser dev tools show a new session cookie being issued on almost every request.",
    ),
    errors=(
        "`LDG-SES-0401 session not found on this node`",
        "```\nINFO  session.Manager - LDG-SES-0401 unknown session id 9f3c…, redirecting to login\n```",
        "```\nnode2 access.log: GET /ledger/po/edit 302 -> /login (session 7ac1… not found)\nnode1 access.log: "
        "GET /ledger/po/list 200 (session 7ac1…)\n```",
    ),
    tried=(
        "Increased the session timeout to 120 minutes.",
        "Cleared the browser cache.",
        "Checked that both nodes have the same time.",
    ),
    fixes=(
        "Sessions live in the memory of each node unless you configure a shared store. Either enable sticky "
        "sessions on {lb} (cookie `LDGROUTE`, which Ledger sets per node), or move sessions to Redis:\n\n```\n"
        "session.store=redis\nsession.redis.url=redis://cache.internal:6379/0\n```\n\nWith the shared store a "
        "failover doesn't log anyone out either.",
        "Enable session affinity on the load balancer using the `LDGROUTE` cookie — or better, "
        "`session.store=redis` so sessions survive a node change.",
        "Sticky sessions on {lb} (cookie-based, LDGROUTE) fix it right away; for HA we recommend the Redis "
        "session store (`session.store=redis`).",
    ),
    fix_summary="Enable sticky sessions (LDGROUTE cookie) or the shared Redis session store.",
)

P15 = Problem(
    key="p15", slug="postgres-connection-pool-exhaustion",
    name="PostgreSQL connection slots exhausted by the application pool",
    space="performance", tags=("postgresql", "connection-pool"), count=20,
    fits=lambda d: d.database.startswith("PostgreSQL"),
    variables={
        "maxc": ("100", "200", "150"),
        "nodes": ("3", "4", "2"),
    },
    titles=(
        "FATAL: remaining connection slots are reserved",
        "Too many connections on {db} after adding app nodes",
        "Application errors at peak: sorry, too many clients already",
        "Connection pool exhausted with PostgreSQL",
        "LDG-DB-0053 cannot obtain connection",
        "Postgres max_connections reached every morning",
        "PostgreSQL refuses connections at 8:30 every day",
        "Too many clients already — {nodes} app nodes on one database",
        "Connection errors after scaling out to {nodes} nodes",
        "Pool timeout LDG-DB-0053 during peak hours",
        "How big should the connection pool be for {db}?",
    ),
    symptoms=(
        "After adding a node we get connection errors every morning when people log in.",
        "max_connections is {maxc} and we hit it at peak times.",
        "Screens hang for 30 seconds and then show an error page.",
        "We run {nodes} app nodes plus the batch worker against one PostgreSQL server.",
        "It only happens between 8 and 9 am, when everybody logs in and the overnight jobs are still running.",
        "pg_stat_activity shows hundreds of idle connections from the application servers.",
        "We scaled out from 2 to {nodes} nodes last month because of load; the errors started right after.",
        "The batch worker fails first, then the UI.",
    ),
    errors=(
        "```\nFATAL:  remaining connection slots are reserved for non-replication superuser connections\n```",
        "`org.postgresql.util.PSQLException: FATAL: sorry, too many clients already`",
        "```\nSELECT count(*), state FROM pg_stat_activity GROUP BY state;\n count | state\n-------+--------\n"
        "   {maxc} | idle\n     7 | active\n```",
        "```\nLDG-DB-0053 cannot obtain connection from pool within 30000 ms (active=100, idle=0)\n```",
    ),
    tried=(
        "Raised max_connections to 400 — the database server then ran out of memory.",
        "Restarted PostgreSQL.",
    ),
    fixes=(
        "Each node opens up to `db.pool.max_size` connections (default 100), so {nodes} nodes + the batch "
        "worker can ask for more than max_connections. Size it: nodes × pool ≤ max_connections − 10.\n\n```\n"
        "db.pool.max_size=40\ndb.pool.min_idle=5\n```\n\nWith many nodes put PgBouncer (transaction mode) in "
        "front instead of raising max_connections.",
        "Lower `db.pool.max_size` per node so that the sum over all nodes stays below max_connections, or put "
        "PgBouncer in between. Raising max_connections just moves the problem to memory.",
        "The math: {nodes} nodes × default pool 100 > max_connections {maxc}. Set `db.pool.max_size` to ~40 "
        "and the errors go away.",
    ),
    fix_summary="Size db.pool.max_size so all nodes fit under max_connections, or use PgBouncer.",
)

PROBLEMS = (P13, P14, P15)
