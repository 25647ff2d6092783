import CurlHTTP
import NIOCore

/// What a transfer reports, carried from the client's thread to the connection's event loop.
enum UpstreamEvent {
    case head(CurlResponseHead)
    case bodyPart(ByteBuffer)
    /// The request-body queue has room again (upload back-pressure released).
    case canAcceptMoreBody
    /// The transfer ended: `nil` for a complete answer, or why not.
    case finished(CurlError?, CurlTransferInfo)
}
