"""The Qt bridge's host-key question, answered or cancelled across threads."""

from __future__ import annotations

import threading
import time

from spyder_kernel_connect.spyder.connector import HostKeyQuestion


def test_host_key_question_unblocks_on_cancel():
    question = HostKeyQuestion(info=None)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    start = time.monotonic()
    assert question.wait(cancel, reject="refused") == "refused"
    assert time.monotonic() - start < 5
    answered = HostKeyQuestion(info=None)
    threading.Timer(0.1, answered.answer, args=("accepted",)).start()
    assert answered.wait(threading.Event(), reject="refused") == "accepted"
