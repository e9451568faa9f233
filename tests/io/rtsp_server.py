"""A real RTSP server for the tests: GStreamer's gst-rtsp-server serving one video file as H.264.

Run with the system Python, which has the GObject bindings (Debian: gir1.2-gst-rtsp-server-1.0,
python3-gst-1.0, gstreamer1.0-plugins-good and -ugly; .ci/run installs them):

    python3 rtsp_server.py PORT FILE MOUNT STARTS

It listens on 127.0.0.1 only. Each time a client starts playing, it appends the wall-clock time
of the file's first frame to STARTS, so a test can tell how late every frame arrives.
"""

import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, path, mount, starts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( filesrc location={path} ! decodebin ! videoconvert ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=5 bitrate=2000 ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )

    def on_configure(_factory, media) -> None:
        def on_state(_media, state) -> None:
            if state == Gst.State.PLAYING:
                with open(starts, "a") as f:
                    f.write(f"{time.time()}\n")

        media.connect("new-state", on_state)

    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
