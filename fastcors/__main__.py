"""``python -m fastcors publish --redis URL [--key K] [--channel C] FILE``: share new CORS settings.

Validates the JSON document (FILE, or - for standard input), stores it under the key and
announces it to the workers following that key; exits 1, publishing nothing, if it is refused.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastcors", description="fastcors settings tools")
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish", help="store a settings document in Redis and announce it")
    publish.add_argument("--redis", required=True, metavar="URL", help="e.g. redis://localhost:6379/0")
    publish.add_argument("--key", default=None, help="the key the workers follow (default: fastcors:settings)")
    publish.add_argument("--channel", default=None, help="the channel announcing changes (default: the key)")
    publish.add_argument("file", help="a JSON object of CORSMiddleware arguments, or - for standard input")
    arguments = parser.parse_args(argv)

    from fastcors._redis import DEFAULT_KEY, publish_settings, without_password

    key = arguments.key or DEFAULT_KEY
    try:
        if arguments.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(arguments.file, "rb") as file:
                data = file.read()
        published = publish_settings(arguments.redis, data, key=key, channel=arguments.channel)
    except Exception as exc:  # refused, unreadable or Redis down: say it plainly
        print(f"not published: {exc}", file=sys.stderr)
        return 1
    print(
        f"published settings version {published.version} under {key!r} at {without_password(arguments.redis)}"
        f" ({published.notified} subscribers notified)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
