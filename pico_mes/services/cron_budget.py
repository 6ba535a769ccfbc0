"""How long one run of a PICO cron may work: safely below the limits Odoo kills
a worker at, so that a run commits what it finished and hands the rest to the
next run (which it triggers) instead of being killed in the middle.

Odoo's limits (both series):

- A prefork cron worker is killed when one poll takes ``limit_time_real_cron``
  seconds (``-1``: ``limit_time_real``; ``0``: never), counted from before its
  idle wait between polls (up to ``SLEEP_INTERVAL`` + pid % 10 seconds, unless a
  trigger wakes it). One poll runs every cron job that is due, each job's
  callback up to ten times in a row.
- A prefork worker (cron or HTTP) stops after ``limit_time_cpu`` seconds of CPU
  per poll or request.
- An HTTP worker running a cron by hand (``method_direct_trigger``) is killed
  after ``limit_time_real`` seconds; in threaded mode a cron thread is
  restarted after the cron limit.

A run stops starting new work once its budget is spent (one unit of work, a
group of completions or one request to PICO, may end after it), and reports no
work left to Odoo, so that Odoo does not call it again in the same poll; its
trigger wakes a cron worker of any node for the rest.
"""

import os
import time

SHARE = 3  # the PICO crons (dispatch, processing, reconciliation) one poll may run
MARGIN = 5  # seconds kept for the last unit of work's commit and Odoo's bookkeeping
LONGEST = 60  # seconds: a longer run gains nothing, the next one starts at once
IDLE_EXTRA = 10  # a prefork cron worker sleeps SLEEP_INTERVAL + pid % 10 (+ 0.1) s


def _options():
    from odoo.tools import config

    return config


def _cron_worker_idle(options, in_request):
    """Seconds a prefork cron worker may have slept inside the current limit."""
    if in_request or not options.get("workers"):
        return 0
    from odoo.service.server import SLEEP_INTERVAL

    return SLEEP_INTERVAL + os.getpid() % IDLE_EXTRA + 1


def limits(options=None, in_request=False):
    """(real seconds, CPU seconds) Odoo gives this run; None: no limit."""
    options = options or _options()
    real = options.get("limit_time_real") or 0
    if not in_request:
        cron = options.get("limit_time_real_cron")
        if cron and cron > 0:
            real = cron
        elif cron == 0 and options.get("workers"):
            real = 0  # prefork: 0 disables the cron workers' limit
    cpu = options.get("limit_time_cpu") if options.get("workers") else None
    return (real if real > 0 else None), (cpu if cpu and cpu > 0 else None)


def seconds(options=None, in_request=False):
    """The budget of one run, in seconds (0: one unit of work per run)."""
    options = options or _options()
    real, cpu = limits(options, in_request)
    available = []
    if real:
        available.append(real - _cron_worker_idle(options, in_request))
    if cpu:
        available.append(cpu)  # a worker's CPU time never exceeds its real time
    if not available:
        return LONGEST
    return max(0.0, min(LONGEST, (min(available) - MARGIN) / SHARE))


class Deadline:
    """The end of one run's budget, on the monotonic clock."""

    def __init__(self, budget):
        self.budget = budget
        self.end = time.monotonic() + budget

    @classmethod
    def for_this_run(cls):
        from odoo.http import request

        return cls(seconds(in_request=bool(request)))

    def passed(self):
        return time.monotonic() >= self.end

    def context(self):
        """The context key that lets the engines' loops stop in time."""
        return {CONTEXT_KEY: self.end}

    def left(self):
        return max(0.0, self.end - time.monotonic())


CONTEXT_KEY = "pico_deadline"  # a Deadline's end, in the context of a budgeted run


def out_of_time(context):
    """Whether the budgeted run this context belongs to has spent its budget
    (never, outside one)."""
    end = context.get(CONTEXT_KEY)
    return end is not None and time.monotonic() >= end
