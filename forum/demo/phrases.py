"""Generic phrasing slots shared by every demo thread: openings, environments, asks, replies, notes."""
from __future__ import annotations

GREETINGS = ("", "", "", "Hi all,", "Hello,", "Hi everyone,", "Morning all —", "Hey folks,", "Dear community,",
             "Hello team,", "Hi,")

OPENINGS = (
    "We are a {industry} company running {product} for about {size} users.",
    "This is on our {env} system.",
    "I've searched the forum but could not find this exact case.",
    "Hoping someone has seen this before.",
    "We're a small IT team and don't have a partner on this at the moment.",
    "Bit of a long post, sorry.",
    "Posting on behalf of our operations team.",
    "Quick one.",
    "Not sure this is the right space, feel free to move it.",
    "We have been stable for months and this started out of nowhere.",
    "Our partner is on holiday, so asking the community first.",
    "Long-time reader, first post.",
)

ENVIRONMENTS = (
    "Environment: {product} {version}, {db}, {os}, {topology}.",
    "We run {product} {version} on {os} with {db} ({topology}, {hosting}).",
    "- Product: {product} {version}\n- Database: {db}\n- OS: {os}\n- Topology: {topology}",
    "Setup: {topology}, {db} on {os}, roughly {size} named users.",
    "{version} / {db} / {os}",
    "Deployment profile is attached; it's the {topology} one on {db}.",
    "We're on {version} ({hosting}), database {db}.",
    "| | |\n|---|---|\n| Version | {version} |\n| Database | {db} |\n| OS | {os} |",
)

ASKS = (
    "Any ideas?", "Has anyone seen this before?", "What are we missing?", "Is there a known fix?",
    "Grateful for any pointers.", "We go live next week, so any help is appreciated.",
    "Is this a known issue in {version}?", "Should we open a support case or is there a workaround?",
    "Thanks in advance.", "Where should we look next?", "Anyone?", "Happy to share more logs if needed.",
    "Is there a setting for this that we overlooked?", "What would you check first?",
)

SIGNOFFS = ("", "", "", "Thanks", "— {first}", "Cheers, {first}", "BR, {first}", "Regards,\n{full}", "thx",
            "Kind regards, {first}")

# A clarifying question and the answers an asker might give to it.
CLARIFY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Which patch level exactly? The output of `ledger-admin version` would help.",
     ("{version}, latest patch as of last month.", "It says {version}.0.4, if that helps.")),
    ("Can you post the full log around the time of the failure?",
     ("That excerpt is all there is, nothing before or after it.", "Sent it to you by message, it's long.")),
    ("Is this the test or the production environment?", ("Production, unfortunately.", "Test for now, "
     "production upgrade is planned next month.")),
    ("Did anything change on your side recently (patching, certificates, network)?",
     ("Nothing as far as we know. Our infra team says so, anyway.", "OS patches two weeks ago, nothing else.")),
    ("Does it happen on every attempt or only sometimes?",
     ("Every single time, yes.", "Only sometimes — maybe one attempt in five.")),
    ("How many nodes do you have, and is it the same on all of them?",
     ("It's a {topology} setup, same everywhere as far as we can tell.", "Same on all nodes.")),
    ("Which {db} patch are you on?", ("Latest quarterly patch.", "We're one patch behind, planned for the "
     "next window.")),
    ("Was this working before {version}?", ("It worked on {prev}, yes.", "We went straight to {version}, so "
     "no idea.")),
)

ONE_OFF_CLARIFY = (
    "Which version are you on?", "Is this for production or a test system first?",
    "How many companies / legal entities are involved?", "Do you need this for all users or only some?",
    "Are you working with a partner on this?", "Is this for a new rollout or an existing setup?",
)

FIX_INTROS = ("", "", "Hi {asker_first}, ", "We had the same at another customer. ", "Short version: ",
              "Seen this a few times now. ", "Good news, this one is known. ", "{asker_first} — ")
FIX_OUTROS = ("", "", "Hope that helps.", "Let us know if that works.", "Shout if it doesn't.",
              "Post back how it goes.", "There's a KB article on this as well.")

FOLLOWUPS = (
    "That was it — thanks!", "Confirmed, that fixed it. Marking as the answer.",
    "Worked on test, rolled to production on the weekend. All good.", "Thanks {fixer_first}, this solved it.",
    "Perfect, problem gone.", "Applied it this morning and it's been fine since.",
    "Can confirm this works on {version} too.", "Brilliant, many thanks. Wish this was in the docs.",
    "Tried it, works. Thanks for the quick answer.", "yes that did it. thx",
)

SAME_HERE = (
    "Same issue here on {cversion} with {cdb}. Following.", "+1, we hit this last month as well.",
    "We have exactly this on our {cdb} system.", "Following — same symptoms at our site.",
    "Seeing the same since our upgrade to {cversion}.",
)

WORKED_TOO = (
    "Worked for us too, on {cversion} / {cdb}.", "Same fix worked at our site. Thanks all.",
    "Just applied this on our {ctopology} — fixed.", "Confirming this also fixes it on {cdb}.",
)

STAFF_NOTES = (
    "Known issue, tracked internally. Customer is on {version}.",
    "Linked to support case {case}. Partner already involved.",
    "Another report of this one — adding it to the lead's list for the next review.",
    "KB article exists for this; we should link it from the error message.",
    "Escalated to engineering ({ticket}); fix planned for the next patch.",
    "Customer has a renewal coming up, please keep an eye on this thread.",
)

CONFIRM_NOTES = ("", "", "Worked for us too.", "Fixed on our side as well.", "Same fix, no issues since.",
                 "Applied during our weekend window — fine.", "Confirmed on our test and production systems.")

GENERIC_HINTS = (
    "Have you tried restarting the application service? Sometimes that's enough.",
    "Could be a firewall change — check with your network team.",
    "Maybe check the patch notes for {version}, there were a few changes in that area.",
    "Not sure, but we had something similar that turned out to be antivirus scanning the install folder.",
)

THANKS_ACCEPTED = ("Thanks, this answers it.", "Great, thank you.", "Makes sense, thanks!", "Perfect, thanks.")
