import CCurl
import NIOCore

/// The C callbacks libcurl calls on the event thread while it drives a transfer. Each turns the context pointer
/// back into the `CurlTransfer` (kept alive by the event thread while its handle is added), asks the transfer's
/// state machine what to do, and does it.
enum CurlCallbacks {
    static let allocator = ByteBufferAllocator()

    static let header: curl_write_callback = { buffer, size, count, context in
        let length = size * count
        guard let buffer, let context else { return 0 }
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
        let line = UnsafeRawBufferPointer(start: buffer, count: length)
        switch transfer.engine.machine.headerLine(line, stop: transfer.stopReason) {
        case .proceed:
            return length
        case .deliverHead:
            guard let head = transfer.engine.machine.head else { return 0 }
            transfer.engine.machine.headDelivered()
            let delegate = transfer.engine.delegate
            delegate?.transfer(transfer, didReceiveHead: head)
            return length
        case .deliverBodyPart, .pause, .abort:
            return 0  // any count but `length` makes libcurl fail the transfer
        }
    }

    static let write: curl_write_callback = { buffer, size, count, context in
        let length = size * count
        guard let context else { return 0 }
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
        let paused = transfer.responsePaused.load(ordering: .acquiring)
        switch transfer.engine.machine.bodyPart(stop: transfer.stopReason, paused: paused) {
        case .deliverBodyPart:
            guard length > 0, let buffer else { return length }
            let part = allocator.buffer(bytes: UnsafeRawBufferPointer(start: buffer, count: length))
            transfer.engine.responseBodyBytes += length
            let delegate = transfer.engine.delegate
            delegate?.transfer(transfer, didReceiveBodyPart: part)
            return length
        case .pause:
            // libcurl keeps this part and offers it again once unpaused (CURL_WRITEFUNC_PAUSE).
            transfer.engine.receivePaused = true
            return gw_writefunc_pause()
        case .proceed, .deliverHead, .abort:
            return 0
        }
    }

    static let read: curl_read_callback = { buffer, size, count, context in
        guard let buffer, let context else { return gw_readfunc_abort() }
        let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
        if transfer.stopReason != .none { return gw_readfunc_abort() }
        let destination = UnsafeMutableRawBufferPointer(start: buffer, count: size * count)
        // Only uploads set the read callback, and they always have a queue.
        guard let requestBody = transfer.requestBody else { return gw_readfunc_abort() }
        let (outcome, notifyProducer) = requestBody.withLockedValue { $0.read(into: destination) }
        if case .pause = outcome {
            // Recorded before the producer can be told, so a resume command always finds the upload paused.
            transfer.engine.sendPaused = true
        }
        if notifyProducer {
            let delegate = transfer.engine.delegate
            delegate?.transferCanAcceptMoreBody(transfer)
        }
        switch outcome {
        case .bytes(let n):
            transfer.engine.requestBodyBytes += n
            return n
        case .pause:
            return gw_readfunc_pause()
        case .end:
            return 0
        case .abort:
            return gw_readfunc_abort()
        }
    }
}
