import json
from datetime import UTC, datetime

import pytest
from huey import MemoryHuey

from engine.jobs.serializer import JsonSerializer


def test_queued_jobs_are_json_and_round_trip() -> None:
    huey = MemoryHuey("t", serializer=JsonSerializer(), results=False, utc=True)

    @huey.task(name="handle")
    def handle(event_id: int) -> None:
        pass

    handle(event_id=7)
    raw = huey.storage.dequeue()
    assert json.loads(raw)["__huey_message__"]["kwargs"] == {"event_id": 7}
    message = huey.serializer.deserialize(raw)
    assert message.kwargs == {"event_id": 7}

    eta = datetime(2030, 1, 1, tzinfo=UTC)
    handle.schedule(kwargs={"event_id": 8}, eta=eta)
    later = huey.serializer.deserialize(huey.storage.dequeue())
    assert (later.kwargs, later.eta) == ({"event_id": 8}, eta.replace(tzinfo=None))


def test_objects_cannot_ride_in_a_job() -> None:
    huey = MemoryHuey("t", serializer=JsonSerializer(), results=False)

    @huey.task(name="handle")
    def handle(thing: object) -> None:
        pass

    with pytest.raises(TypeError, match="JSON"):
        handle(object())
