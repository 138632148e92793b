"""``joinedup serve``: the HTTP service under gunicorn (or Flask's development server with --dev).

It lives in ``service`` so that the ``classifier`` package never imports Flask; the console script runs the
``classifier`` command group with this command added.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys

import click

from service.commands import cli
from classifier.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except (socket.gaierror, ValueError):
            return False


def gunicorn_options(host: str, port: int, workers: int, threads: int, data_dir) -> dict:
    """Settings for the model's memory and the machine's cores: one torch/FAISS thread pool per worker,
    sized so that workers x pool <= cores; no preload, because torch does not survive a fork."""
    cores = os.cpu_count() or 1
    per_worker = max(1, cores // workers)

    def post_fork(server, worker):
        os.environ["OMP_NUM_THREADS"] = str(per_worker)
        os.environ["JOINEDUP_THREADS"] = str(per_worker)
        import faiss
        from gunicorn import util

        from service.errors import write_gunicorn_error

        faiss.omp_set_num_threads(per_worker)
        util.write_error = write_gunicorn_error  # gunicorn's own errors in the API's JSON shape, not HTML

    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "preload_app": False, "timeout": 120, "graceful_timeout": 30, "keepalive": 5,
            "accesslog": "-", "errorlog": "-", "post_fork": post_fork, "child_exit": child_exit,
            # gunicorn's maximum (default 4094), so the app answers long URLs itself, in JSON (a q over
            # 1,000 characters is a 422); a longer request line is a JSON 414 from write_gunicorn_error.
            "limit_request_line": 8190,
            "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None}


def run_gunicorn(options: dict) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self):
            from service import create_app

            return create_app({"EAGER_LOAD": True})

    Server().run()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="Gunicorn worker processes.")
@click.option("--threads", type=int, default=4, show_default=True, help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Run Flask's development server instead of gunicorn.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address with no API token.")
@click.pass_obj
def serve(pipe, host, port, workers, threads, dev, insecure):
    """Serve the web page and the JSON API."""
    if not is_loopback(host) and not pipe.settings.api_token and not insecure:
        raise ConfigError(f"refusing to serve on {host} with no JOINEDUP_API_TOKEN set: anyone could write; "
                          "set a token or pass --insecure")
    if workers < 1 or threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    pipe.registry.load(embedder_name=None)  # fail now, with a clear message, if there is no usable model
    if dev:
        from service import create_app

        create_app({"EAGER_LOAD": True}).run(host=host, port=port, threaded=True)
        return
    metrics_dir = pipe.settings.data_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    click.echo(f"joinedup: serving on http://{host}:{port}/ with {workers} worker(s)", err=True)
    sys.argv = [sys.argv[0]]  # gunicorn parses argv; ours are already consumed
    run_gunicorn(gunicorn_options(host, port, workers, threads, pipe.settings.data_dir))


def main(argv=None):
    cli.main(args=argv, prog_name="joinedup")
