"""Entry point for Celery workers: ``celery -A forum.celery_worker worker``."""
from forum import create_app

flask_app = create_app()
celery = flask_app.extensions.get("celery")
if celery is None:
    raise SystemExit("CELERY_BROKER_URL is not set: there is nothing for a worker to do")
