"""The node's read-only web interface (issue 18, docs/web.md): server-rendered HTML pages over the
API's own figures, in French and English, served by the API's app on its port."""
