"""Side effects as rows: written in the transaction that caused them, carried out by jobs."""
