"""Diagnostic codes of the YAML side of a workspace folder (E001-E099, W001-W099).

Each code names one kind of problem; `CATALOG` gives its one-line title for the docs
and for editors. The rule language uses codes from E100 up.
"""

from __future__ import annotations

# Reading files
YAML_SYNTAX = "E001"
MISSING_FILE = "E002"
DUPLICATE_KEY = "E003"
UNSUPPORTED_YAML = "E004"
UNREADABLE_FILE = "E005"

# Shape (JSON Schema)
UNKNOWN_KEY = "E010"
MISSING_KEY = "E011"
WRONG_TYPE = "E012"
NOT_ALLOWED_VALUE = "E013"
MALFORMED_VALUE = "E014"
OUT_OF_RANGE = "E015"

# workspace.yaml
DUPLICATE_NAME = "E020"
TEAMMATE_UNKNOWN_TEAM = "E021"
TEAM_UNKNOWN_MEMBER = "E022"
CHOICE_WITHOUT_CHOICES = "E023"
FIELD_SHADOWS_BUILTIN = "E024"
UNKNOWN_TIMEZONE = "E025"
CLOSES_BEFORE_OPENS = "E026"
OVERLAPPING_HOURS = "E027"

# pipelines.yaml
MOVE_FROM_UNKNOWN_STAGE = "E030"
MOVE_TO_UNKNOWN_STAGE = "E031"
UNKNOWN_INITIAL_STAGE = "E032"
UNREACHABLE_STAGE = "E033"
UNKNOWN_SUBJECT = "E034"

# templates.yaml
PLACEHOLDER_WITHOUT_VARIABLE = "E040"
VARIABLE_WITHOUT_PLACEHOLDER = "E041"
PLACEHOLDERS_NOT_SEQUENTIAL = "E042"
HEADER_PLACEHOLDERS = "E043"
FOOTER_PLACEHOLDER = "E044"

# sla.yaml
BAD_DURATION = "E050"
BUSINESS_DURATION_IN_CALENDAR_POLICY = "E051"
POLICY_WITHOUT_TARGETS = "E052"

# routing.yaml
ROUTING_UNKNOWN_TEAM = "E060"
ROUTING_UNKNOWN_TEAMMATE = "E061"
ROUTING_TEAMMATE_NOT_IN_TEAM = "E062"
ROUTING_WITHOUT_TARGET = "E063"

# integrations.yaml
UNKNOWN_INTEGRATION_KIND = "E070"
LITERAL_SECRET = "E071"
UNDECLARED_NUMBER = "E072"
NUMBER_UNKNOWN_PIPELINE = "E073"

# At server start
SECRET_NOT_SET = "E080"

# replies.yaml
UNKNOWN_REPLY_VARIABLE = "E090"

# ai.yaml and knowledge.yaml
AI_UNKNOWN_STAGE = "E091"
AI_UNKNOWN_REPLY = "E092"
AI_UNKNOWN_FACT = "E093"
AI_INTENT_WITHOUT_WORDS = "E094"
AI_MODEL_MISSING = "E095"

# Warnings
UNKNOWN_FILE = "W001"
MEMBERSHIP_ONE_SIDED = "W020"
CHOICES_ON_NON_CHOICE = "W021"
OWNER_LOOKS_MISSPELT = "W022"
NEVER_ON_SHIFT = "W023"
TERMINAL_WITH_MOVES = "W030"
DEAD_END_STAGE = "W031"
MOVE_TO_ITSELF = "W032"
WARNING_NOT_BEFORE_DEADLINE = "W050"
POLICY_NEVER_APPLIES = "W051"
NO_BUSINESS_HOURS = "W052"
DUPLICATE_HOLIDAY = "W060"
ROUTING_RULE_NEVER_APPLIES = "W061"
NUMBER_WITHOUT_INTEGRATION = "W070"
AI_KEYWORD_TWICE = "W090"
AI_MODEL_UNUSED = "W091"

CATALOG: dict[str, str] = {
    YAML_SYNTAX: "YAML syntax error",
    MISSING_FILE: "a required file is missing",
    DUPLICATE_KEY: "the same key twice in one mapping",
    UNSUPPORTED_YAML: "YAML construct Kazi does not accept (complex key, recursive or huge alias)",
    UNREADABLE_FILE: "file cannot be read as UTF-8 text",
    UNKNOWN_KEY: "unknown key",
    MISSING_KEY: "required key missing",
    WRONG_TYPE: "value of the wrong type",
    NOT_ALLOWED_VALUE: "value not among the allowed ones",
    MALFORMED_VALUE: "value not in the expected form",
    OUT_OF_RANGE: "value too small, too large, too long or too short",
    DUPLICATE_NAME: "the same name declared twice",
    TEAMMATE_UNKNOWN_TEAM: "teammate in a team that is not declared",
    TEAM_UNKNOWN_MEMBER: "team member who is not a declared teammate",
    CHOICE_WITHOUT_CHOICES: "choice field without choices",
    FIELD_SHADOWS_BUILTIN: "custom field with the name of a built-in field",
    UNKNOWN_TIMEZONE: "unknown time zone",
    CLOSES_BEFORE_OPENS: "opening period that closes before it opens",
    OVERLAPPING_HOURS: "opening periods of one day overlap",
    MOVE_FROM_UNKNOWN_STAGE: "move from a stage the pipeline does not have",
    MOVE_TO_UNKNOWN_STAGE: "move to a stage the pipeline does not have",
    UNKNOWN_INITIAL_STAGE: "initial stage the pipeline does not have",
    UNREACHABLE_STAGE: "stage no move leads to from the initial stage",
    UNKNOWN_SUBJECT: "pipeline subject that is neither conversation nor an object kind",
    PLACEHOLDER_WITHOUT_VARIABLE: "template placeholder with no variable",
    VARIABLE_WITHOUT_PLACEHOLDER: "template variable with no placeholder",
    PLACEHOLDERS_NOT_SEQUENTIAL: "template placeholders not numbered 1, 2, 3, ...",
    HEADER_PLACEHOLDERS: "template header with more than one placeholder",
    FOOTER_PLACEHOLDER: "template footer with a placeholder",
    BAD_DURATION: "duration not understood",
    BUSINESS_DURATION_IN_CALENDAR_POLICY: "business-time duration in a calendar-time SLA policy",
    POLICY_WITHOUT_TARGETS: "SLA policy without any target",
    ROUTING_UNKNOWN_TEAM: "routing to a team that is not declared",
    ROUTING_UNKNOWN_TEAMMATE: "routing to a teammate who is not declared",
    ROUTING_TEAMMATE_NOT_IN_TEAM: "routing to a teammate outside the rule's team",
    ROUTING_WITHOUT_TARGET: "routing rule with neither team nor teammate",
    UNKNOWN_INTEGRATION_KIND: "unknown integration kind",
    LITERAL_SECRET: "secret written as a value instead of env:NAME",
    UNDECLARED_NUMBER: "WhatsApp integration for a number workspace.yaml does not declare",
    NUMBER_UNKNOWN_PIPELINE: "a number starts conversations in no conversation pipeline",
    SECRET_NOT_SET: "environment variable named by a secret is not set",
    UNKNOWN_REPLY_VARIABLE: "quick reply variable Kazi cannot fill",
    AI_UNKNOWN_STAGE: "intent leading to a stage no conversation pipeline has (ai.yaml)",
    AI_UNKNOWN_REPLY: "intent drafting from a quick reply replies.yaml does not declare",
    AI_UNKNOWN_FACT: "intent quoting hours or a policy knowledge.yaml does not have",
    AI_INTENT_WITHOUT_WORDS: "intent with neither keywords nor examples",
    AI_MODEL_MISSING: "provider openai_compat without a model",
    UNKNOWN_FILE: "YAML file in the folder that Kazi does not read",
    MEMBERSHIP_ONE_SIDED: "team membership declared on one side only",
    CHOICES_ON_NON_CHOICE: "choices given for a field that is not a choice",
    OWNER_LOOKS_MISSPELT: "fields declared for a new object kind whose name looks misspelt",
    NEVER_ON_SHIFT: "teammate with shifts but no hours on any day",
    TERMINAL_WITH_MOVES: "terminal stage with moves out of it",
    DEAD_END_STAGE: "non-terminal stage with no moves out of it",
    MOVE_TO_ITSELF: "move from a stage to itself",
    WARNING_NOT_BEFORE_DEADLINE: "SLA warning not shorter than the targets it warns about",
    POLICY_NEVER_APPLIES: "SLA policy after a catch-all policy never applies",
    NO_BUSINESS_HOURS: "business-time SLA but no business hours declared",
    DUPLICATE_HOLIDAY: "the same holiday date twice",
    ROUTING_RULE_NEVER_APPLIES: "routing rule after a catch-all rule never applies",
    NUMBER_WITHOUT_INTEGRATION: "business number without a WhatsApp integration",
    AI_KEYWORD_TWICE: "the same keyword in two intents",
    AI_MODEL_UNUSED: "a model configured while the provider is offline",
}
