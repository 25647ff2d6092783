import NIOCore

/// Receives the events of one transfer.
///
/// Every method is called on the transfer's curl event thread, never concurrently for one transfer, in this order:
/// at most one `didReceiveHead`, then any number of `didReceiveBodyPart`, then exactly one `didFinishWith`.
/// `transferCanAcceptMoreBody` may come at any point before the end. Methods must return quickly and never block:
/// they run on the thread that drives every other transfer of that thread. They may call any `CurlTransfer` method.
public protocol CurlTransferDelegate: AnyObject, Sendable {
    /// Final (non-1xx) status line and headers, in order, repeated headers kept apart (e.g. two Set-Cookie).
    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead)
    /// A piece of the response body, de-chunked and not decompressed. Parts arrive as libcurl reads them (at most
    /// 16 KiB each); none arrive while the response is paused.
    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer)
    /// The request-body queue drained below its low-water mark after `writeBody` returned false: the producer may
    /// send more.
    func transferCanAcceptMoreBody(_ t: CurlTransfer)
    /// Exactly once per transfer, last: nil on success.
    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo)
}
