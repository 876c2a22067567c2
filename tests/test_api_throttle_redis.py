"""With REDIS_URL set, failed API logins are counted in Redis, so every process shares the count."""

from actions.reference_data import ensure_reference_data
from extensions import db, limiter
from tests.api_support import API
from tests.conftest import make_test_app
from tests.jobs_support import TEST_REDIS_URL, connect_redis


def test_failed_logins_are_counted_in_redis(tmp_path):
    redis = connect_redis()
    apps = [
        make_test_app(
            f"sqlite:///{tmp_path / f'{n}.db'}",
            REDIS_URL=TEST_REDIS_URL,
            API_AUTH_FAILURE_LIMIT="3 per minute",
        )
        for n in range(2)
    ]
    try:
        assert type(limiter.storage).__name__ == "RedisStorage"
        limiter.reset()
        for app in apps:
            with app.app_context():
                db.create_all()
                ensure_reference_data(db.session)
                db.session.commit()
        bad = {"action": "GetOrders", "identifier": "nobody", "secret": "x"}
        first, second = (app.test_client() for app in apps)
        assert [first.post(API, data=bad).status_code for _ in range(2)] == [403, 403]
        assert second.post(API, data=bad).status_code == 403  # the third failure, seen by the other app
        assert second.post(API, data=bad).status_code == 429
        assert first.post(API, data=bad).status_code == 429
        assert any(b"LIMITS" in key for key in redis.keys("*"))
    finally:
        limiter.reset()
        # Later tests' apps initialise the shared limiter again with their own (memory) storage.
        make_test_app(f"sqlite:///{tmp_path / 'after.db'}")
