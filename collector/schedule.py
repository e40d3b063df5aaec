"""The long-running agent: `annexa run` on a cron schedule (the only apscheduler import).

Each scheduled run is a child process (`annexa run --no-wait`), so a stop signal can abandon it
cleanly: the child marks its run failed when told to stop, and the agent makes sure of it if the child
has to be killed. One run at a time: a run still going when the next is due is skipped and logged.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from .config import Settings
from .cron import parse_crontab
from .logs import log
from .notify import notify_latest
from .store import NoRunError, Store, StoreBusyError

STOP_GRACE_SECONDS = 20  # the child gets this long to record its abandoned run before it is killed


def build_trigger(cron: str, timezone: str) -> BaseTrigger:
    fields = parse_crontab(cron)

    def trigger(day: str, day_of_week: str) -> CronTrigger:
        return CronTrigger(
            minute=fields.minute,
            hour=fields.hour,
            day=day,
            month=fields.month,
            day_of_week=day_of_week,
            timezone=ZoneInfo(timezone),
        )

    if fields.day_or_weekday:
        return OrTrigger([trigger(fields.day, "*"), trigger("*", fields.day_of_week)])
    return trigger(fields.day, fields.day_of_week)


def next_fire_times(cron: str, timezone: str, after: datetime, count: int = 3) -> list[datetime]:
    trigger = build_trigger(cron, timezone)
    out: list[datetime] = []
    previous: datetime | None = None
    moment = after
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        out.append(fire)
        previous, moment = fire, fire
    return out


class Agent:
    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger,
        *,
        run_now: bool = False,
        trigger: BaseTrigger | None = None,
        job: Callable[[], None] | None = None,
    ) -> None:
        if settings.model.schedule is None and trigger is None:
            raise ValueError("no schedule")
        self.settings = settings
        self.logger = logger
        self.stopping = threading.Event()
        self.child: subprocess.Popen[str] | None = None
        self.child_lock = threading.Lock()
        schedule = settings.model.schedule
        tz = ZoneInfo(schedule.timezone if schedule else "UTC")
        self.trigger = trigger or build_trigger(
            schedule.cron if schedule else "", schedule.timezone if schedule else "UTC"
        )
        self.scheduler = BlockingScheduler(
            timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        self.job = self.scheduler.add_job(job or self.run_once, self.trigger, id="annexa-run", name="annexa run")
        self.run_now = run_now
        if run_now:
            self.job.modify(next_run_time=datetime.now(tz))

    def start(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # Before start() apscheduler has not computed the job's next run time, so ask the trigger.
        now = datetime.now(self.scheduler.timezone)
        next_run = now if self.run_now else self.trigger.get_next_fire_time(None, now)
        log(
            self.logger,
            logging.INFO,
            "agent started",
            store=str(self.settings.store_path),
            schedule=self.settings.model.schedule.cron if self.settings.model.schedule else None,
            next_run=next_run.isoformat() if next_run else None,
        )
        if not self.stopping.is_set():
            self.scheduler.start()
        log(self.logger, logging.INFO, "agent stopped")

    def stop(self) -> None:
        self.stopping.set()
        with self.child_lock:
            child = self.child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self._fail_abandoned_run()
        # A signal can arrive just before the scheduler starts: wait briefly for it to be running.
        for _ in range(200):
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
                return
            time.sleep(0.05)

    def _on_signal(self, signum: int, frame: Any) -> None:
        log(self.logger, logging.INFO, "stop requested", signal=signal.Signals(signum).name)
        threading.Thread(target=self.stop, name="agent-stop", daemon=True).start()

    def _on_event(self, event: JobEvent) -> None:
        times = getattr(event, "scheduled_run_times", None) or [getattr(event, "scheduled_run_time", "")]
        due = [str(t) for t in times]
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log(self.logger, logging.WARNING, "run skipped: the previous run is still going", due=due)
        elif event.code == EVENT_JOB_MISSED:
            log(self.logger, logging.WARNING, "run missed", due=due)
        elif event.code == EVENT_JOB_ERROR:
            log(self.logger, logging.ERROR, "run job failed", error=repr(getattr(event, "exception", None)))

    def run_once(self) -> None:
        if self.stopping.is_set():
            return
        command = [
            sys.executable,
            "-m",
            "collector",
            "run",
            "-c",
            str(self.settings.file),
            "--no-wait",
            "--quiet",
            "--no-notify",
            "--no-push",
        ]
        with self.child_lock:
            self.child = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"}
            )
            child = self.child
        out, err = child.communicate()
        with self.child_lock:
            self.child = None
        code = child.returncode
        if code == 4:
            log(self.logger, logging.WARNING, "run skipped: another process holds the store")
            return
        if code not in (0, 1, 3) or self.stopping.is_set():
            log(
                self.logger,
                logging.ERROR,
                "run did not complete",
                exit_status=code,
                error=(err.strip().splitlines() or [""])[-1],
            )
            return
        self._log_summary(out, code)
        self._notify()
        self._push()

    def _log_summary(self, out: str, code: int) -> None:
        run_id = out.split()[1] if out.startswith("run ") else None
        try:
            with Store(self.settings.store_path) as store:
                run = store.resolve_run(run_id)
                connectors = {c["connector"]: c["status"] for c in store.connector_runs(run["id"])}
        except NoRunError as exc:
            log(self.logger, logging.ERROR, "run finished but cannot be read", error=str(exc))
            return
        log(
            self.logger,
            logging.INFO,
            "run finished",
            run_id=run["id"],
            status=run["status"],
            exit_status=code,
            started_at=run["started_at"],
            finished_at=run["finished_at"],
            connectors=connectors,
            summary=run["summary"],
        )

    def _notify(self) -> None:
        outcome = notify_latest(self.settings)
        if outcome is not None:
            message, details = outcome
            level = logging.ERROR if message == "notification failed" else logging.INFO
            log(self.logger, level, message, **details)

    def _push(self) -> None:
        from .export.ciso_assistant import push_after_run

        pushed = push_after_run(self.settings)
        if pushed is not None:
            ok, line = pushed
            if ok:
                log(self.logger, logging.INFO, "pushed to CISO Assistant", detail=line)
            else:
                log(self.logger, logging.ERROR, "push to CISO Assistant failed", error=line)

    def _fail_abandoned_run(self) -> None:
        try:
            with Store(self.settings.store_path) as store:
                store.acquire_lock(wait=False)  # taking the lock marks a run left 'running' as failed
        except (StoreBusyError, NoRunError):
            pass
