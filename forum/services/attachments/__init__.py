"""Files on questions and replies: content checks (``checks``), the content-addressed store (``store``),
and attaching, listing and serving them under the post's own visibility (``files``)."""
