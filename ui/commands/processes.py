"""Commands that run Kazi's processes: migrate, serve, worker, demo, version."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version as package_version

import uvicorn

from engine.auth import workspace_id_for
from engine.composition import build_runtime
from engine.core.clock import SystemClock
from engine.db import make_engine, migrate
from engine.logging_setup import configure_logging
from engine.observability import enable_multiprocess
from engine.settings import Settings
from engine.startup import check_database, check_queue, missing_secrets
from engine.worker import run_worker
from engine.workspaces.demo import demo_logins, demo_secrets
from engine.workspaces.directory import read_folder
from engine.workspaces.reload import workspace_folders
from ui.commands.workspaces import load_folder

logger = logging.getLogger("kazi")


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("version", help="print Kazi's version")
    command.set_defaults(handler=_version)

    command = subparsers.add_parser("migrate", help="bring the database schema up to date")
    command.set_defaults(handler=_migrate)

    command = subparsers.add_parser("serve", help="run the web server")
    command.add_argument("--bind", help="HOST:PORT (default: KAZI_BIND or 127.0.0.1:8000)")
    command.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes sharing the port (default: 1; more need PostgreSQL + Redis)",
    )
    command.set_defaults(handler=_serve)

    command = subparsers.add_parser("worker", help="run background jobs and the sweeper")
    command.add_argument(
        "--threads", type=int, default=2, help="job threads in each process (default: 2)"
    )
    command.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes, each with --threads job threads, restarted if one dies "
        "(default: 1; more need PostgreSQL + Redis)",
    )
    command.set_defaults(handler=_worker)

    command = subparsers.add_parser(
        "demo", help="migrate, load the sample workspace, run server and worker"
    )
    command.set_defaults(handler=_demo)


def _version(arguments: argparse.Namespace) -> int:
    print(f"kazi {package_version('kazi')}")
    return 0


def _migrate(arguments: argparse.Namespace) -> int:
    configure_logging()
    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    check_database(settings)
    migrate(settings.database_url)
    print("database schema is up to date")
    return 0


def _single_process_on_sqlite(settings: Settings, command: str, processes: int) -> str | None:
    """Why `processes` cannot run on this deployment, or None when they can."""
    if processes < 1:
        return f"kazi {command}: --processes must be 1 or more"
    if processes > 1 and settings.is_sqlite:
        return (
            f"kazi {command}: --processes {processes} needs PostgreSQL and Redis "
            "(KAZI_DATABASE_URL=postgresql+psycopg://..., KAZI_REDIS_URL=redis://...). "
            "The embedded SQLite setup is one process of each: SQLite takes one writer "
            "at a time, so more processes would only queue up on its lock. "
            "Run with --processes 1, or see docs/operations.md to move to PostgreSQL."
        )
    return None


def _serve(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if arguments.bind:
        os.environ["KAZI_BIND"] = arguments.bind
        settings = Settings.from_env()
    refused = _single_process_on_sqlite(settings, "serve", arguments.processes)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    check_database(settings)
    check_queue(settings)
    configure_logging()
    for line in missing_secrets(settings):
        logger.warning("%s; that integration is refused until it is set", line)
    enable_multiprocess(settings.metrics_dir)  # /metrics adds up every process's counts
    uvicorn.run(
        "ui.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=arguments.processes,
        # A new server process imports all of Kazi before it can answer the supervisor's
        # ping; on a busy machine that takes longer than uvicorn's 5 s, and the process
        # was killed and restarted for ever.
        timeout_worker_healthcheck=60,
        log_config=None,
        proxy_headers=True,
    )
    return 0


def _worker(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    refused = _single_process_on_sqlite(settings, "worker", arguments.processes)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    check_database(settings)
    check_queue(settings)
    configure_logging()
    if arguments.processes > 1:
        return _supervise_workers(arguments.processes, arguments.threads)
    enable_multiprocess(settings.metrics_dir)  # counted here, scraped from `kazi serve`
    runtime = build_runtime(settings)
    try:
        run_worker(runtime, threads=arguments.threads)
    finally:
        runtime.close()
    return 0


RESTART_PAUSE = 1.0  # seconds before a worker process that died is started again


def _supervise_workers(processes: int, threads: int) -> int:
    """`processes` children, each a one-process `kazi worker`; a child that dies (killed,
    out of memory) is started again, and SIGTERM or Ctrl-C stops them all gracefully.
    Their jobs are safe either way: rows are claimed with leases (DESIGN rule 6)."""
    command = [sys.executable, "-m", "ui.cli", "worker", "--threads", str(threads)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [subprocess.Popen(command) for _ in range(processes)]
    logger.info("kazi worker: %d processes of %d threads", processes, threads)
    try:
        while not stopping:
            time.sleep(0.2)
            for n, child in enumerate(children):
                if child.poll() is not None and not stopping:
                    logger.warning(
                        "worker process %d exited with %s; starting it again",
                        child.pid,
                        child.returncode,
                    )
                    time.sleep(RESTART_PAUSE)
                    children[n] = subprocess.Popen(command)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 0


DEMO_WORKSPACE = "retail"
DEMO_SIMULATOR_BIND = "127.0.0.1:8090"
DEMO_MPESA_BIND = "127.0.0.1:8091"


def _demo(arguments: argparse.Namespace) -> int:
    """One command for a new user: everything on SQLite, in this terminal."""
    settings = Settings.from_env()
    if not settings.is_sqlite:
        print("kazi demo runs on SQLite; unset KAZI_DATABASE_URL to use it", file=sys.stderr)
        return 2
    _migrate(arguments)
    for folder in workspace_folders(settings.config_dir):
        if load_folder(settings, folder) != 0:
            return 1
    demo = read_folder(settings.config_dir / DEMO_WORKSPACE)
    db = make_engine(settings.database_url)
    try:
        workspace_id = workspace_id_for(db, demo.slug)
        assert workspace_id is not None  # just loaded
        logins = demo_logins(db, workspace_id, demo, SystemClock().now())
    finally:
        db.dispose()
    env = dict(os.environ)
    for folder in workspace_folders(settings.config_dir):
        if folder.name != DEMO_WORKSPACE:
            env.update(demo_secrets(read_folder(folder), env, require_whatsapp=False).environment)
    secrets = demo_secrets(demo, env)
    env.update(secrets.environment)
    env.setdefault("KAZI_WHATSAPP_API_URL", f"http://{DEMO_SIMULATOR_BIND}")
    # M-Pesa: the Daraja simulator pays every push and calls Kazi back (docs/mpesa.md).
    env.setdefault("KAZI_MPESA_API_URL", f"http://{DEMO_MPESA_BIND}")
    env.setdefault("KAZI_PUBLIC_URL", f"http://{settings.bind}")
    mpesa = next((i for i in demo.integrations if i.kind == "mpesa"), None)
    mpesa_keys = [
        env.get(mpesa.secrets.get(setting, ""), "") if mpesa else ""
        for setting in ("consumer_key", "consumer_secret")
    ]
    number = demo.numbers[0]
    kazi = [sys.executable, "-m", "ui.cli"]
    children = [
        subprocess.Popen([*kazi, "worker"], env=env),
        subprocess.Popen([*kazi, "serve"], env=env),
        subprocess.Popen(
            [
                *kazi,
                "simulate",
                "--webhook-url",
                f"http://{settings.bind}/webhooks/whatsapp/{demo.slug}",
                "--app-secret",
                secrets.app_secret,
                "--access-token",
                secrets.access_token,
                "--bind",
                DEMO_SIMULATOR_BIND,
                "--phone-number-id",
                number.phone_number_id,
                "--display-phone-number",
                number.phone.lstrip("+"),
                "--workspace",
                str(settings.config_dir / DEMO_WORKSPACE),
            ],
            env=env,
        ),
        subprocess.Popen(
            [
                *kazi,
                "simulate-mpesa",
                "--bind",
                DEMO_MPESA_BIND,
                "--consumer-key",
                mpesa_keys[0],
                "--consumer-secret",
                mpesa_keys[1],
            ],
            env=env,
        ),
    ]
    print(
        f"\nKazi is starting at http://{settings.bind}/ with {demo.name}.\n"
        f"Simulated customers chat at http://{DEMO_SIMULATOR_BIND}/ (type as a customer there)\n"
        f"and pay every M-Pesa prompt at http://{DEMO_MPESA_BIND} (see docs/mpesa.md).\n"
        f"Sign in at http://{settings.bind}/login, workspace '{demo.slug}':",
        flush=True,
    )
    for login in logins:
        print(f"  {login.role:<8} {login.handle:<10} password {login.password}   ({login.name})")
    print("Ctrl-C stops everything.\n", flush=True)
    # A service manager (or `kill`) stops the demo with SIGTERM: stop the children too,
    # as Ctrl-C does, instead of leaving a server, worker and simulator behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0
