"""One-off questions: many different subjects, each asked once in one of several question forms."""
from __future__ import annotations

# (space, product key, subject, what the asker wants, the substance of a good answer)
SUBJECTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("general", "ledger", "the three-way match tolerance", "accept small price differences on supplier invoices",
     "set the tolerance per supplier group under Purchasing > Matching rules; a percentage and an absolute cap"),
    ("general", "ledger", "fixed asset depreciation runs", "run depreciation for several books at once",
     "schedule one run per book and chain them in the scheduler; the run is safe to repeat for a period"),
    ("general", "ledger", "multi-currency revaluation", "revalue open items monthly with daily rates",
     "use the rate type 'month-end' and enable automatic reversal on the first day of the next period"),
    ("general", "ledger", "intercompany eliminations", "eliminate intercompany revenue on consolidation",
     "tag the partner company on each posting and let the consolidation rule set create the eliminations"),
    ("general", "ledger", "purchase requisition approvals", "route requisitions by amount and cost centre",
     "build the approval matrix with amount bands per cost-centre group and a fallback approver"),
    ("general", "ledger", "custom fields on the supplier master", "store a supplier risk rating",
     "add an extension field in the data dictionary; it shows in forms, API and Lens after a metadata refresh"),
    ("integrations", "bridge", "REST API pagination", "export all open orders through the API",
     "follow the `next` cursor in each response instead of page numbers; page size up to 500"),
    ("security-sso", "ledger", "audit trail retention", "keep field-level audit data for ten years",
     "archive the audit tables yearly with the archiving job; archived data stays searchable read-only"),
    ("integrations", "bridge", "Peppol e-invoicing", "send invoices to public-sector customers via Peppol",
     "use the Peppol access-point connector with your participant id; test against the test network first"),
    ("reporting", "ledger", "VAT return reporting", "produce the quarterly VAT return per country",
     "each tax code maps to a box in the country template; run the VAT report by reporting country"),
    ("general", "ledger", "budget upload from Excel", "upload next year's budget per cost centre",
     "use the budget import template; it validates dimensions before it posts the budget version"),
    ("general", "ledger", "cost centre hierarchies", "reorganise cost centres without losing history",
     "create a new hierarchy version dated from the change; reports pick the version by period"),
    ("general", "ledger", "warehouse bin replenishment", "replenish pick bins automatically",
     "set min/max per bin and schedule the replenishment proposal every hour"),
    ("general", "ledger", "serial number tracking", "track serial numbers from receipt to shipment",
     "switch the item's tracking mode to serial before the first receipt; existing stock needs a count"),
    ("general", "ledger", "landed cost allocation", "spread freight and duty over received items",
     "define landed cost types and allocate by value or weight on the receipt"),
    ("general", "ledger", "bank reconciliation rules", "auto-match bank lines with remittance references",
     "add a matching rule on the reference field with a tolerance of zero and priority above amount-only rules"),
    ("general", "ledger", "dunning letter templates", "send dunning letters in the customer's language",
     "keep one template per language; the customer's language field decides which one is used"),
    ("general", "ledger", "project billing milestones", "invoice projects when milestones are approved",
     "set the billing rule to milestone and link the milestone approval to the billing proposal"),
    ("security-sso", "ledger", "role-based menus", "hide finance menus from warehouse users",
     "menus follow roles; remove the permission set from the warehouse role rather than editing menus"),
    ("security-sso", "ledger", "SCIM user provisioning", "create and disable users from our identity provider",
     "enable the SCIM endpoint, create a service token and map groups to roles"),
    ("databases", "ledger", "data archiving", "move closed years out of the live tables",
     "run the archiving job per fiscal year after closing; archived data stays in read-only reports"),
    ("installation-upgrades", "ledger", "sandbox refreshes", "refresh the test system from production monthly",
     "restore the backup, then run `ledger-admin post-copy` to neutralise mail, bank and integration endpoints"),
    ("integrations", "bridge", "the Bridge mapping designer", "map nested JSON arrays to order lines",
     "use a repeating group on the array node and map the line fields inside it"),
    ("integrations", "bridge", "Bridge retry policies", "retry failed messages only for network errors",
     "set the retry policy to 'transient only'; business errors go straight to the error queue"),
    ("operations", "bridge", "Bridge message monitoring", "alert when messages wait too long",
     "use the queue age metric with a threshold per interface and send alerts to your monitoring tool"),
    ("integrations", "bridge", "the Kafka connector", "publish ledger events to Kafka topics",
     "configure the event source per document type and one topic per event family"),
    ("integrations", "bridge", "EDI 850/856 messages", "receive purchase orders and send ship notices",
     "import the X12 templates for 850 and 856 and bind them to the trading-partner profile"),
    ("reporting", "lens", "Lens row-level security", "let managers see only their own departments",
     "define a security filter on the department dimension and assign it through roles"),
    ("reporting", "lens", "dashboard sharing in Lens", "share a dashboard with people outside finance",
     "share to a group, not to individuals; viewers need the Lens viewer licence"),
    ("reporting", "lens", "calculated measures", "show margin percent that adds up correctly",
     "define the measure as a ratio of sums, not a sum of ratios, in the cube's measure editor"),
    ("reporting", "lens", "the Lens mobile app", "show sales KPIs on phones",
     "mark the dashboard as mobile-ready; the app shows mobile layouts only"),
    ("reporting", "ledger", "report scheduling to SharePoint", "deliver monthly reports to a SharePoint library",
     "add a SharePoint destination with an app registration and pick it in the schedule"),
    ("reporting", "ledger", "the PDF invoice layout", "add our bank details and a QR code to invoices",
     "copy the standard layout, edit it in the layout designer and assign it per company"),
    ("general", "ledger", "barcode label printing", "print pallet labels from goods receipts",
     "use the label template with a ZPL printer profile and trigger it from the receipt"),
    ("general", "ledger", "the year-end close checklist", "close the fiscal year in the right order",
     "the checklist runs subledger closes first, then revaluation, then the year-end transfer"),
    ("operations", "ledger", "time zones for subsidiaries", "let each subsidiary post in its own time zone",
     "set the time zone per company; posting dates use the company's local date"),
    ("installation-upgrades", "ledger", "language packs", "add Polish and Czech to our installation",
     "install the language packs with `ledger-admin languages add pl cs` and restart"),
    ("operations", "ledger", "backup strategy", "back up without stopping the system",
     "use online database backups plus a copy of the attachments store taken right after"),
    ("operations", "ledger", "disaster recovery sizing", "size a DR site for production",
     "the DR site can run at half capacity; keep database replication synchronous only within a region"),
    ("operations", "ledger", "Prometheus monitoring", "scrape application metrics",
     "enable the metrics endpoint in ledger.properties and scrape /metrics on each node"),
    ("operations", "ledger", "log rotation", "keep application logs from filling the disk",
     "logs rotate by size by default; set `logging.max_history` and compress old files"),
    ("integrations", "bridge", "API rate limits", "know how many API calls we may make",
     "the default is 600 calls per minute per client; it can be raised per client in Bridge admin"),
    ("installation-upgrades", "ledger", "automated regression tests", "test our customisations before upgrades",
     "use the test recorder for key processes and replay them on the upgrade rehearsal system"),
    ("installation-upgrades", "ledger", "upgrade planning", "plan the jump over two releases",
     "you can go straight to the newest release; run the pre-upgrade check on a copy first"),
    ("databases", "ledger", "SAP HANA as the Ledger database", "move Ledger to our HANA platform",
     "HANA is supported from 2025.1; use datamove with the HANA target and check column store settings"),
    ("security-sso", "ledger", "password policies for local users", "enforce longer passwords for local accounts",
     "set the local password policy in security settings; SSO users are not affected"),
)

# (title template, body template, answer template); {s} subject, {S} capitalised, {goal}, {answer}
FORMS: tuple[tuple[str, str, str], ...] = (
    ("How do we set up {s}?", "We want to {goal}. The admin guide covers the basics but not our case. "
     "What is the recommended way?", "You can do that: {answer}."),
    ("Is {s} supported on {db}?", "We're planning to {goal} and our platform is {db} on {os}. Does {s} work "
     "there, or are there restrictions?", "Yes, supported on {db}. In short: {answer}."),
    ("Best practice for {s} with {size} users?", "We have around {size} users and need to {goal}. "
     "What have others done?", "What worked for us: {answer}. Test it with realistic volumes first."),
    ("{S}: documentation unclear", "The docs on {s} are thin. We need to {goal} and it's not clear which "
     "settings are involved.", "Agreed the page is thin. The gist: {answer}. We'll improve the docs."),
    ("Anyone using {s} with {integration}?", "Curious whether anyone has combined {s} with {integration}. "
     "Our goal is to {goal}.", "We do. The key part: {answer}."),
    ("{S} changed in {version}?", "Since {version}, {s} seems to behave differently. We only want to "
     "{goal}, as before.", "The behaviour changed a little in {version}; the way to do it now: {answer}."),
    ("Permissions needed for {s}", "Which permissions does a user need to work with {s}? We want a "
     "dedicated role to {goal}.", "Give the role the matching permission set; beyond that: {answer}."),
    ("Training material for {s}?", "New team members need to learn {s}. We mainly {goal}. Any good "
     "material or recordings?", "There's a course in the academy. Practically: {answer}."),
    ("Feature idea: simpler {s}", "It would help a lot if {s} were simpler. Today it takes several steps to "
     "{goal}.", "Thanks for the idea — logged for the product team. Until then: {answer}."),
    ("Quick question about {s}", "Can we {goal}? Just checking before we spend time on it.",
     "Yes: {answer}."),
)

DISCUSSIONS: tuple[tuple[str, str], ...] = (
    ("How do you schedule patch windows?", "Monthly, quarterly, only when needed? Curious how others balance "
     "staying current with business freezes."),
    ("Share your upgrade rehearsal checklist", "We're preparing our next upgrade. What is on your rehearsal "
     "checklist that you learned the hard way?"),
    ("Cloud or on-premises for the next five years?", "Our hosting contract ends next year. What drove your "
     "decision either way?"),
    ("How many test environments do you keep?", "We have test and UAT. Is a third one for upgrades worth it?"),
    ("Who owns the integrations at your company?", "IT, finance systems, or the partner? We keep arguing."),
    ("Tips for month-end performance", "What do you do to keep month-end close fast?"),
    ("User adoption after go-live", "How did you get people to stop using spreadsheets after go-live?"),
    ("Naming conventions for custom fields", "Do you prefix extension fields? We're cleaning up ours."),
    ("Monitoring dashboards you find useful", "What do you watch on your Ledger nodes day to day?"),
    ("How do you document your configuration?", "Wiki, exported settings, something else?"),
    ("Working with implementation partners", "What makes a partner engagement go well in your experience?"),
    ("Archiving: how far back do you keep data online?", "We are at eight years and it shows."),
    ("Lens vs. our old BI tool", "Anyone else migrating dashboards? What surprised you?"),
    ("Experiences with the 2026.1 release?", "Planning the upgrade; what should we know?"),
    ("Running Ledger on ARM servers?", "Has anyone tried it, even on a test system?"),
    ("Segregation of duties reviews", "How often do you review role assignments, and with which reports?"),
    ("Handling time zones in a global rollout", "Rolling out to APAC next year; lessons welcome."),
    ("What's your test data strategy?", "Anonymised copies of production, synthetic data, or both?"),
)

DISCUSSION_REPLIES = (
    "We do it {cadence}, and it has worked well for us.", "Honestly we still struggle with this.",
    "Our partner set it up for us; happy to share the template if you message me.",
    "Depends a lot on the size of the team. With {size} users we keep it simple.",
    "We learned to always involve finance early.", "Same question here, following.",
    "Automation helped the most — we script everything we can.", "Strongly agree with the previous reply.",
    "We changed our approach twice; the current one is {cadence} and it sticks.",
)
CADENCES = ("monthly", "quarterly", "every second month", "twice a year", "weekly")

INTERNAL: tuple[tuple[str, str], ...] = (
    ("Escalation handover for {org}", "Handing over the escalation with {org} while I'm away. Current state "
     "and contacts are in the case notes."),
    ("Release readiness review: {version}", "Agenda for the readiness review of {version}: open defects, "
     "upgrade rehearsal results, documentation status."),
    ("Partner enablement sessions next quarter", "Which topics should we cover with partners next quarter?"),
    ("KB articles due for review", "A batch of KB articles is past its review date; please pick some."),
    ("On-call rota for the holidays", "Please add yourselves to the rota sheet."),
    ("Customer advisory board prep", "Collecting themes for the next advisory board meeting."),
    ("{org} renewal — anything we should know?", "Account team asks whether there are open technical issues "
     "with {org} before the renewal."),
    ("Forum moderation guidelines update", "Proposed changes to how we handle off-topic and duplicate threads."),
    ("Lab environment for {db} testing", "We need a lab with {db} for reproducing customer cases."),
    ("Retro: last patch release", "What went well and what didn't with the last patch release."),
)

INTERNAL_REPLIES = (
    "Thanks, I'll take a look this week.", "Added my notes to the case.", "I can cover Tuesday and Wednesday.",
    "Agreed, let's discuss in the weekly.", "Done.", "I'll pick up the ones about upgrades.",
    "Nothing open from support's side.", "Let's include partners from the start this time.",
)
