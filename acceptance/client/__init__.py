"""The transport: target settings, REST, auth, the chat socket and its event log, waiting, redaction."""
