"""The service layer: what views call. Functions are named <entity>_<action>, take
keyword-only arguments, check access, cache shared reads and talk to Layers through
the client. Views import from here, never from dashboard.layers or requests."""

from dashboard.layers import LayersError as UpstreamError

__all__ = ["UpstreamError"]
