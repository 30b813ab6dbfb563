"""huey as a trigger: job names, the queue adapter, the sweeper and the worker."""
