"""Client library of the acceptance suite: targets, auth, chat, REST, actors, matchers, reporting."""
__version__ = "1.0.0"
