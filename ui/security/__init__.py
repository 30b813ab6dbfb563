"""Web security at the edge: who is signed in, CSRF, response headers."""
