"""gunicorn's settings for まちウォレット in production: `gunicorn --config deploy/gunicorn.conf.py`.

Each worker builds its own app (`app:create_app()`: its database pool, its bot and notice threads),
so nothing is preloaded. Logs are one JSON object a line on stderr (the journal keeps them): the
app's records and gunicorn's own, access lines included, each with its request id
(`X-Request-Id`, taken from the proxy or made by the app). Override any of these for one host
with `GUNICORN_CMD_ARGS` in the environment file (e.g. `--bind 127.0.0.1:8001 --workers 4`).
"""
import logs

wsgi_app = "app:create_app()"
bind = "127.0.0.1:8000"          # behind the reverse proxy (deploy/nginx.conf.example); never on a public address
workers = 2                      # per core, as the benchmark measured (README, `make bench`)
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20            # notices and queued webhook events finish within this at a stop
keepalive = 5
max_requests = 20000             # workers are replaced now and then, each finishing what it holds
max_requests_jitter = 2000
preload_app = False
control_socket_disable = True    # gunicorn 24+'s runtime control socket: systemd manages the process
# X-Forwarded-* are the app's business (MACHI_TRUST_PROXY, werkzeug's ProxyFix): gunicorn trusts none.
forwarded_allow_ips = ""
secure_scheme_headers = {}

logs.name_process("web")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logs.StderrHandler", "formatter": "json"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "alembic": {"level": "WARNING"},   # each worker's start-up schema check is no news
    },
}
