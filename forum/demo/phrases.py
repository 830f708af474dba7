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

CLARIFY = (
    "Which patch level exactly? The output of `ledger-admin version` would help.",
    "Can you post the full log around the time of the failure?",
    "Is this the test or the production environment?",
    "Did anything change on your side recently (patching, certificates, network)?",
    "Does it happen on every attempt or only sometimes?",
    "How many nodes do you have, and is it the same on all of them?",
    "Which {db} patch are you on?",
    "Was this working before {version}?",
)

ASKER_ANSWERS = (
    "It's {version}, {db} on {os}.", "Production, unfortunately.", "Every single time, yes.",
    "Only sometimes — maybe one attempt in five.", "Nothing changed as far as we know. Our infra team says so, "
    "anyway.", "Same on both nodes.", "Log excerpt is in the original post, there is nothing else around it.",
    "It worked on {prev}, yes.",
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
