"""SLA clocks in the engine: started, stopped and checked against the database."""
