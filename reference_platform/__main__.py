"""`python -m reference_platform [--host 127.0.0.1] [--port 8000]`: serve the platform standalone."""
from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from .app import create_app
from .config import ConfigError, Settings
from .faults import FaultConfigError
from .variations import VariationConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference_platform", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except (ConfigError, FaultConfigError, VariationConfigError) as exc:
        print(f"reference platform: {exc}", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(f"reference platform {settings.version} ({settings.environment}, dialect {settings.dialect}, "
          f"jwt secret from {settings.jwt_secret_source}, database {settings.database_url}): "
          f"REST {base}  WebSocket ws://{args.host}:{args.port}/ws  health {base}/health", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", ws="websockets-sansio",
                ws_max_size=max(4 * settings.max_message_bytes, 1 << 20), ws_ping_interval=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
