"""The names of Kazi's jobs, shared by whoever enqueues and whoever runs them."""

PROCESS_INBOUND_EVENT = "process_inbound_event"
PROCESS_INBOUND_BATCH = "process_inbound_batch"
DISPATCH_OUTBOX_ROW = "dispatch_outbox_row"
RUN_SCHEDULED_ACTION = "run_scheduled_action"
CHECK_SLA_CLOCK = "check_sla_clock"
REPORT_TASK_DUE = "report_task_due"
QUEUE_BROADCAST = "queue_broadcast"

INBOUND_BATCH_SIZE = 100
"""How many ready inbound events one PROCESS_INBOUND_BATCH job claims at most."""
