#!/usr/bin/python3
"""A recording SMTP or LMTP server for srsrelay's tests, on aiosmtpd
(Debian's python3-aiosmtpd): `sink.py smtp|lmtp LOG` listens on
127.0.0.1, port 0, prints the port, and appends one JSON line per message
to LOG ({"from", "to", "data" as latin-1 text}). Under LMTP it answers
each recipient: 452 for local parts starting with "full", 250 otherwise.
It stops when its standard input closes."""

import asyncio
import json
import sys

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, log, lmtp):
        self.log = log
        self.lmtp = lmtp

    async def handle_DATA(self, server, session, envelope):
        with open(self.log, "a") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.original_content.decode("latin-1"),
            }) + "\n")
        if not self.lmtp:
            return "250 2.0.0 queued"
        return "\r\n".join(
            "452 4.2.2 " + r + " is full" if r.lower().startswith("full")
            else "250 2.0.0 " + r + " delivered"
            for r in envelope.rcpt_tos)


async def main():
    kind, log = sys.argv[1], sys.argv[2]
    lmtp = kind == "lmtp"
    handler = Recorder(log, lmtp)
    protocol = LMTP if lmtp else SMTP
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: protocol(handler, hostname="sink.test", decode_data=False),
        "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    # Serve until the test closes our standard input.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
