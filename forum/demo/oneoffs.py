"""Question forms for one-off threads, plus discussions and staff-room conversations."""
from __future__ import annotations

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
