import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_mining_pulls_no_web_or_database_code():
    code = ("import sys, mining, mining.pipeline, mining.evaluate, mining.embedders, mining.representation; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'flask', 'sqlalchemy', 'flask_sqlalchemy', 'torch', 'sentence_transformers'}); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # torch too: the model loads on first use only
