"""Which request delivered each video, read from the Discord double's log (no server started)."""

from __future__ import annotations

from bench.measure import DeliveryWatch
from discord_double import DiscordDouble, RecordedRequest, StoredMessage
from discord_double.state import UploadedFile

EDIT = "/webhooks/{application_id}/{token}/messages/{message_id}"


def request(
    message_id: int, at: float, *, status: int = 200, filename: str | None = "animate.mp4"
) -> RecordedRequest:
    files = () if filename is None else (UploadedFile("files[0]", filename, "video/mp4", b"v"),)
    return RecordedRequest("PATCH", EDIT, "/x", {}, status, {}, files, at, {"id": str(message_id)})


def test_the_first_accepted_upload_of_a_video_to_an_interactions_message_counts() -> None:
    discord = DiscordDouble()
    for message_id, interaction_id in ((11, 101), (12, 102), (13, None)):
        discord.world.messages[message_id] = StoredMessage(message_id, 1, {}, interaction_id=interaction_id)
    watch = DeliveryWatch(discord, {101: 0, 102: 1})
    discord.world.requests += [
        request(11, 1.0, filename=None),
        request(11, 2.0, status=429),
        request(11, 3.0, filename="cat.png"),
        request(13, 3.5),
    ]
    assert watch.update() == 0
    discord.world.requests += [request(11, 4.0), request(11, 5.0)]
    assert watch.update() == 1
    discord.world.requests.append(request(12, 6.0))
    assert watch.update() == 2
    assert watch.shown_at == {0: 4.0, 1: 6.0}
