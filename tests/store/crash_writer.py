"""A writer process for the crash test (tests/store/test_crash.py): records consent entries
and decisions through the services, forever, until it is killed.

The store comes from the environment (SAFESHARE_*). After each service call RETURNS (so the
change and its audit event are committed), the writer appends ``consent <id>`` or
``decision <id>`` to its acknowledgement file, flushed and fsynced: every line in that file
is a write the store promised to keep. It exits by itself when its parent process is gone.

    python crash_writer.py ACK_FILE WRITER_NUMBER SUBJECTS SEED
"""

from __future__ import annotations

import os
import random
import sys
from datetime import date
from pathlib import Path

from safeshare.bootstrap import bootstrap
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis, ConsentDecision, ConsentMethod
from safeshare.services.consent import record_consent
from safeshare.services.decisions import decide_request
from safeshare.store.ledger import NewConsent

PURPOSE = "legal-aid-referral"


def main() -> None:
    ack_path, number, subjects, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rnd = random.Random(seed)
    store = bootstrap()
    fd = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    print("ready", flush=True)
    actor = f"writer-{number}"
    parent = os.getppid()
    while os.getppid() == parent:  # never outlive the test that started it
        subject = f"s{rnd.randrange(subjects)}"
        if rnd.random() < 0.5:
            entry = NewConsent(
                subject=subject,
                decision=rnd.choice(list(ConsentDecision)),
                purposes=(PURPOSE,),
                date=date(2026, 2, rnd.randrange(1, 28)),
                method=ConsentMethod.ORAL_RECORDED,
                evidence_ref=f"form {rnd.randrange(10_000)}",
            )
            line = f"consent {record_consent(store, entry, actor=actor)}\n"
        else:
            request = ShareRequest(
                sender="unhcr",
                recipient="ngo-a",
                purpose=PURPOSE,
                basis=Basis.CONSENT,
                data_elements=("name", "phone"),
                subjects=(subject,),
            )
            recorded = decide_request(store, request, actor=actor, today=date(2026, 3, 1))
            line = f"decision {recorded.id}\n"
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)


if __name__ == "__main__":
    main()
