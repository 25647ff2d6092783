import NIOConcurrencyHelpers
import NIOCore

extension CurlClient {
    /// Convenience for control-plane calls (WeChat API): runs the request and buffers the whole response.
    ///
    /// A body longer than `maxBodyBytes` fails with `.brokenResponse`; cancelling the calling task cancels the
    /// transfer (`.cancelled`).
    public func execute(_ request: CurlRequest, maxBodyBytes: Int) async throws(CurlError) -> CurlResponse {
        let starter = BufferedTransferStarter()
        let result: Result<CurlResponse, CurlError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let delegate = BufferingDelegate(maxBodyBytes: maxBodyBytes, continuation: continuation)
                starter.started(self.execute(request, delegate: delegate))
            }
        } onCancel: {
            starter.cancel()
        }
        return try result.get()
    }
}

/// Connects task cancellation, which may come before the transfer exists, to the transfer.
private final class BufferedTransferStarter: Sendable {
    private enum State {
        case idle
        case started(CurlTransfer)
        case cancelled
    }

    private let state = NIOLockedValueBox(State.idle)

    func started(_ transfer: CurlTransfer) {
        let cancelNow = state.withLockedValue { state -> Bool in
            if case .cancelled = state { return true }
            state = .started(transfer)
            return false
        }
        if cancelNow { transfer.cancel() }
    }

    func cancel() {
        let transfer = state.withLockedValue { state -> CurlTransfer? in
            defer { state = .cancelled }
            if case .started(let transfer) = state { return transfer }
            return nil
        }
        transfer?.cancel()
    }
}

/// Collects one response for `CurlClient.execute(_:maxBodyBytes:)`. Its callbacks come from one curl thread, one at a
/// time (the delegate contract), which is what makes the unguarded state safe.
private final class BufferingDelegate: CurlTransferDelegate, @unchecked Sendable {
    private let maxBodyBytes: Int
    private var continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>?
    private var head: CurlResponseHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(maxBodyBytes: Int, continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>) {
        self.maxBodyBytes = maxBodyBytes
        self.continuation = continuation
    }

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) {
        self.head = head
    }

    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        guard !tooLarge else { return }
        if body.readableBytes + part.readableBytes > maxBodyBytes {
            tooLarge = true
            t.cancel()
            return
        }
        var part = part
        body.writeBuffer(&part)
    }

    func transferCanAcceptMoreBody(_ t: CurlTransfer) {}

    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        let result: Result<CurlResponse, CurlError>
        if tooLarge {
            result = .failure(.brokenResponse("response body larger than \(maxBodyBytes) bytes"))
        } else if let error {
            result = .failure(error)
        } else if let head {
            result = .success(CurlResponse(head: head, body: body))
        } else {
            result = .failure(.brokenResponse("the response ended before its header block"))
        }
        continuation?.resume(returning: result)
        continuation = nil
    }
}
