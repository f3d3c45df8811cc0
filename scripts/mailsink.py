"""The local SMTP server of `make run` and the tests: aiosmtpd (Debian's python3-aiosmtpd) accepting every message
on 127.0.0.1 and delivering it into a maildir, so a test or a developer reads the mail the platform sent.

Started and stopped by scripts/mailsink.sh; run with Debian's /usr/bin/python3, where the package installs."""
import argparse
import mailbox
import signal

from aiosmtpd.controller import Controller


class MaildirDelivery:
    def __init__(self, path):
        self.maildir = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server, session, envelope):
        # Delivered-To names the envelope recipients, as a delivering MTA adds it; Maildir.add writes into tmp/ and
        # renames into new/, so a reader never sees half a message.
        delivered_to = b"".join(b"Delivered-To: " + recipient.encode() + b"\r\n" for recipient in envelope.rcpt_tos)
        self.maildir.add(mailbox.MaildirMessage(delivered_to + envelope.original_content))
        return "250 2.0.0 Message accepted for delivery"


def main():
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--port", type=int, required=True)
    arguments.add_argument("--maildir", required=True)
    options = arguments.parse_args()
    controller = Controller(MaildirDelivery(options.maildir), hostname="127.0.0.1", port=options.port)
    controller.start()
    print(f"mailsink: listening on 127.0.0.1:{options.port}, delivering into {options.maildir}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
