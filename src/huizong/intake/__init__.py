"""INTAKE: where submissions come from, when they arrived, and who is still missing.

Every source (the folder inbox, a mailbox over IMAP, the upload page) is a small adapter
yielding :class:`~huizong.intake.arrivals.Arrival` records. Each arrival is deposited into
the day's inbox folder and its receipt time written to the day's receipt book
(:mod:`huizong.ingest.receipts`), so ingest reads one folder whatever the source, and
timeliness comes from when the file arrived, never from a file's modification time.
"""
