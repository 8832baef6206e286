"""The event bus says who is interested, so expensive events are only built when someone listens."""

from __future__ import annotations

import asyncio

from antenna.jobs.bus import EventBus


def test_interested_follows_subscriptions_and_listeners() -> None:
    bus = EventBus()
    assert not bus.interested("plex.state")

    async def scenario() -> None:
        jobs = bus.subscribe("job")
        assert not bus.interested("plex.state")
        plex = bus.subscribe("plex.")
        assert bus.interested("plex.state")
        bus.publish("plex.state", {"n": 1})
        event = await plex.get(1)
        assert event is not None
        assert event.data == {"n": 1}
        plex.close()
        jobs.close()
        assert not bus.interested("plex.state")
        everything = bus.subscribe()
        assert bus.interested("plex.state")
        everything.close()

    asyncio.run(scenario())
    stop = bus.listen(lambda event: None)
    assert bus.interested("anything")
    stop()
    assert not bus.interested("anything")
