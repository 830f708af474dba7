"""Bringing history in from another tool, and patterns out.

``flask --app wsgi import-threads FILE.jsonl [--batch-size N] [--dry-run]`` reads one JSON object per line:

``title`` (required, at most ``TITLE_MAX_LENGTH``), ``body`` (Markdown, at most ``POST_MAX_LENGTH``),
``external_id``, ``organisation`` (+ ``organisation_kind``: customer, the default, partner or vendor),
``author``, ``space``, ``created_at`` (ISO 8601; an offset is converted to UTC, none means UTC),
``visibility`` (public / internal / org_private; default: the space's default), ``kind``
(question / discussion / announcement), ``tags`` (list or comma-separated), ``status`` (``needs_staff``
is kept; ``resolved`` needs an accepted reply; otherwise it follows the replies), ``replies``
(a list of ``{author, body, accepted, created_at, organisation}``, at most one accepted), and the deployment
fields ``product``, ``version``, ``edition``, ``hosting``, ``database``, ``operating_system``,
``topology``, ``environment``, ``integrations``, ``go_live``, ``size_users``, ``deployment`` (its name).
Unknown fields are ignored (and listed once).

Defaults and placeholders:

* An unknown organisation, author or space is created. Organisations and people made this way are
  placeholders (``is_placeholder``, no password: nobody can sign in as them); a placeholder person's
  address is ``imported-<hash>@placeholder.invalid``, so a re-run finds the same person again. An author
  given as the e-mail address of an existing (real) member is that member.
* No ``organisation``: the thread belongs to the vendor organisation (a placeholder vendor if there is none).
  No ``author``: a placeholder "Imported user" of the thread's organisation. A reply without an
  ``organisation`` is attributed to the thread's organisation. No ``space``: "Imported".
* Spaces created by an import are *internal* by default, so threads without a ``visibility`` stay with
  staff until someone decides otherwise.
* Deployment fields are stored as the thread's deployment snapshot (in the board's shape). When the
  line names an organisation and a product and version from the catalog, the thread is also linked to a
  Deployment of that organisation with the same version, hosting, database, operating system, topology
  and environment; one named "Imported: <product> <version>" is created if none matches. The catalog
  itself is never changed: an unknown product or version leaves only the snapshot.

Validation, batches, re-runs and dry runs are described in ``importer.py``.
``flask --app wsgi patterns export [--json]`` is in ``exporter.py``.
"""
