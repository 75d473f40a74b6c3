"""Socket Mode: coachbot's own connection to Slack (``client``), the envelope front
(``front``) and ``coachbot socket`` (``runner``)."""
