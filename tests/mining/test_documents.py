from mining.documents import Document, document_signatures, document_text, error_signatures, strip_markup


def test_document_text_strips_code_and_markdown():
    doc = Document(id=1, title="Install fails on **RHEL 8**",
                   body="I ran the installer:\n\n```\n$ ./install.sh --all\nsegfault\n```\n\n"
                        "See [the guide](https://example.com/guide) and <b>this</b>. `inline` word.",
                   answer="Set `JAVA_HOME` first.")
    text = document_text(doc)
    assert text.startswith("Install fails on RHEL 8")
    assert "install.sh" not in text and "https://" not in text and "<b>" not in text
    assert "the guide" in text and "inline word" in text and "JAVA_HOME" in text


def test_long_body_is_trimmed_and_title_repeated():
    doc = Document(id=1, title="Timeout on upgrade", body="The upgrade hangs. " * 200)
    text = document_text(doc, body_chars=300)
    assert text.count("Timeout on upgrade") == 2
    assert len(text) < 400


def test_title_only():
    assert document_text(Document(id=1, title="Just a title")) == "Just a title"


def test_error_signatures():
    text = ("Upgrade aborted: ORA-00942 table or view does not exist, then HTTP 503 from the gateway. "
            "Caused by java.lang.OutOfMemoryError and a NullPointerException; curl said ECONNREFUSED; "
            "installer exited with exit code 3; see OPS-306. Step 'schema migration' failed at 02:00.")
    found = error_signatures(text)
    for expected in ["ORA-00942", "HTTP 503", "java.lang.OutOfMemoryError", "NullPointerException",
                     "ECONNREFUSED", "exit code 3", "OPS-306", "step failed: schema migration"]:
        assert expected in found, expected
    assert "OutOfMemoryError" not in found  # covered by its qualified name
    assert found.index("ORA-00942") < found.index("HTTP 503")


def test_no_signatures_in_plain_text():
    assert error_signatures("How do I change the logo on the login page?") == []
    assert error_signatures("") == []


def test_document_signatures_read_code_blocks_too():
    doc = Document(id=1, title="Crash", body="```\nFATAL: ORA-12154 could not resolve\n```")
    assert document_signatures(doc) == ["ORA-12154"]
    assert "ORA-12154" not in strip_markup(doc.body)
