"""Settings that pass production's checks (MACHI_ENV=prod), for tests that build a prod app."""
from __future__ import annotations

PROD_VALUES = {
    "env": "prod",
    "line_channel_secret": "3f9a0c1e7b2d4a6f8e0b1c3d5e7f9a2b",
    "line_channel_access_token": "Zq8vN2xK5pR7tW1yB4cE6gH9jL3mQ0sU2vX5zA8dF1hK4nP7rT0wY3bE6gJ9lM2o",
    "line_login_channel_id": "2001234567",
    "liff_id": "2001234567-AbCdEfGh",
    "secret_key": "pL7x-Qm2_Vr9Ks4Nw8Tz1Yb6Hd3Jf5Gc0Ea_Uo-Ri7We2Xt",
}
