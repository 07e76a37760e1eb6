"""Start-up cost of the app and its commands: "nothing new" must not wait for the solver, the
classifier or the scrubber to load (issue 10: ``leaderboard publish`` with nothing new answers
in 2 s at any size, and most of a command's time was start-up)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Modules only a fit, a labelling, a scrub, a stream or a push needs; each costs 0.2-0.5 s of
#: start-up.
HEAVY = ("scipy", "phonenumbers", "arena.categories.rules", "arena.categories.learned",
         "huggingface_hub.inference._client", "huggingface_hub.hf_api")

PUBLISH_AND_LIST = f"""
import json, sys
import wsgi
result = wsgi.app.test_cli_runner().invoke(args=["leaderboard", "publish"])
print(json.dumps({{"output": result.output, "code": result.exit_code,
                  "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def _run(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARENA_DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)


def test_nothing_new_publish_loads_no_solver_classifier_or_scrubber(tmp_path: Path) -> None:
    database = tmp_path / "arena.sqlite3"
    _run(database, "-m", "flask", "--app", "wsgi", "db", "upgrade")
    _run(database, "-m", "flask", "--app", "wsgi", "leaderboard", "publish")

    second = json.loads(_run(database, "-c", PUBLISH_AND_LIST).stdout.splitlines()[-1])

    assert second["code"] == 0
    assert second["output"].startswith("up to date"), second["output"]
    assert second["heavy"] == []


def test_the_lazy_names_still_resolve() -> None:
    import ratings
    from ratings.api import fit_leaderboard

    assert ratings.fit_leaderboard is fit_leaderboard and ratings.SCALE > 0
    assert isinstance(ratings.LeaderboardResult, type)
    try:
        ratings.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
