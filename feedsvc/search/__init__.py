"""Full-text search (issue 17 item 1), the pure parts: the text both databases index and
query, made the same way for a release and for a query (`text.py`), and a search request's
fields checked one by one (`form.py`). The SQL is the store's (store/search.py), the index
its triggers (store/schema.py SEARCH_DDL); the route is web/search.py."""
