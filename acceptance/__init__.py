"""Client library of the acceptance suite: targets, auth, chat, REST, actors, matchers, reporting."""
from pathlib import Path

__version__ = "1.0.0"
ROOT = Path(__file__).resolve().parents[1]  # the project's folder
