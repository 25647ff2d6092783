import CCurl
import NIOConcurrencyHelpers
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One event thread and the libcurl multi handle it owns, with that handle's connection pool.
///
/// Other threads hand work over through `submit` (a locked queue plus `curl_multi_wakeup`, the one multi call that
/// is safe from any thread); everything else, every easy handle included, is touched only on this thread. The loop
/// drains the queue, runs `curl_multi_perform`, finishes completed transfers and sleeps in `curl_multi_poll`.
final class CurlEventThread: @unchecked Sendable {
    /// Work handed to the thread.
    enum Command {
        case start(CurlTransfer)
        case resumeSend(CurlTransfer)
        case resumeReceive(CurlTransfer)
        case stop(CurlTransfer)
        case shutdown
    }

    private let multi: UnsafeMutableRawPointer
    private let mailbox: CurlThreadMailbox<Command>
    private let lock = NIOLock()
    /// Guarded by `lock`: nobody will join the thread, so it frees the multi handle itself when it ends.
    private var cleansUpOnExit = false
    /// Guarded by `lock`.
    private var thread: pthread_t?

    // Owned by the event thread.
    private var freeHandles: [EasyHandle] = []
    private var active: [ObjectIdentifier: CurlTransfer] = [:]
    private static let maxFreeHandles = 1024
    /// `CurlClientConfiguration.usesProxyEnvironment`, applied to every handle of this thread.
    private let usesProxyEnvironment: Bool
    /// Transfers whose easy handle is in the multi handle; readable from any thread (tests, metrics).
    let activeTransfers = Atomic<Int>(0)

    init(configuration: CurlClientConfiguration, index: Int) throws(CurlError) {
        guard let multi = curl_multi_init() else { throw CurlError.other(code: -1, "curl_multi_init failed") }
        self.multi = multi
        self.mailbox = CurlThreadMailbox(multi: multi)
        self.usesProxyEnvironment = configuration.usesProxyEnvironment
        let threads = configuration.threads
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(configuration.maxCachedConnections, 1))
        _ = gw_multi_setopt_long(
            multi,
            CURLMOPT_MAX_HOST_CONNECTIONS,
            CurlClientConfiguration.perThreadShare(of: configuration.maxConnectionsPerHost, threads: threads)
        )
        _ = gw_multi_setopt_long(
            multi,
            CURLMOPT_MAX_TOTAL_CONNECTIONS,
            CurlClientConfiguration.perThreadShare(of: configuration.maxTotalConnections, threads: threads)
        )
        guard let started = mailbox.startThread({ self.run() }) else {
            curl_multi_cleanup(multi)
            throw CurlError.other(code: -1, "pthread_create failed")
        }
        thread = started
    }

    /// Hands `command` to the thread. Returns false (and queues nothing) once the thread has been shut down.
    @discardableResult
    func submit(_ command: Command) -> Bool {
        if case .shutdown = command { return mailbox.submit(command, isLast: true) }
        return mailbox.submit(command)
    }

    func addPassObserver(_ observer: @escaping @Sendable () -> Void) {
        mailbox.addPassObserver(observer)
    }

    private func passEnded(_ observers: [@Sendable () -> Void]) {
        for observer in observers { observer() }
    }

    /// Starts a transfer on this thread, or finishes it at once with `.cancelled` if the thread has shut down.
    func start(_ transfer: CurlTransfer) {
        if !submit(.start(transfer)) {
            // No curl thread is left to call the delegate from; this is the one exception to that rule.
            transfer.engine.machine.failedToStart()
            let delegate = transfer.engine.delegate
            transfer.engine.delegate = nil
            delegate?.transfer(transfer, didFinishWith: .cancelled, info: CurlTransferInfo())
            passEnded(mailbox.observers)
        }
    }

    /// Cancels what is left, stops the thread and waits for it. Called from the thread itself (the last reference
    /// to the client dropped in a delegate callback), it cannot wait: the thread then cleans up after itself.
    func shutdownAndJoin() {
        submit(.shutdown)
        let onEventThread = mailbox.isOwnerThread
        let joinable: pthread_t? = lock.withLock {
            defer { thread = nil }
            if onEventThread { cleansUpOnExit = true }
            return thread
        }
        guard let joinable else { return }
        if onEventThread {
            pthread_detach(joinable)
        } else {
            pthread_join(joinable, nil)
            releaseResources()
        }
    }

    private func releaseResources() {
        for handle in freeHandles { handle.destroy() }
        freeHandles.removeAll()
        curl_multi_cleanup(multi)
    }

    // MARK: - The loop (event thread only)

    private func run() {
        var batch: [Command] = []
        var observers: [@Sendable () -> Void] = []
        var shuttingDown = false
        while !shuttingDown {
            observers = mailbox.take(into: &batch)
            for command in batch {
                switch command {
                case .start(let transfer): add(transfer)
                case .resumeSend(let transfer): resumeSend(transfer)
                case .resumeReceive(let transfer): resumeReceive(transfer)
                case .stop(let transfer): stop(transfer, reason: transfer.stopReason)
                case .shutdown: shuttingDown = true
                }
            }
            batch.removeAll(keepingCapacity: true)
            if shuttingDown { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            finishCompletedTransfers()
            passEnded(observers)
            // Commands queued from this thread's own callbacks sent no wake-up: run them before sleeping.
            if mailbox.isEmpty {
                _ = curl_multi_poll(multi, nil, 0, 1000, nil)
            }
        }
        for transfer in Array(active.values) {
            stop(transfer, reason: .cancelled)
        }
        passEnded(observers)
        if lock.withLock({ cleansUpOnExit }) { releaseResources() }
    }

    private func add(_ transfer: CurlTransfer) {
        switch transfer.engine.machine.start(stop: transfer.stopReason) {
        case .finish(let error):
            finish(transfer, error: error, info: CurlTransferInfo())
        case .addHandle:
            guard var easy = freeHandles.popLast() ?? EasyHandle() else {
                transfer.engine.machine.failedToStart()
                finish(transfer, error: .other(code: -1, "curl_easy_init failed"), info: CurlTransferInfo())
                return
            }
            let context = Unmanaged.passUnretained(transfer).toOpaque()
            do {
                try easy.configure(for: transfer.request, context: context, usesProxyEnvironment: usesProxyEnvironment)
            } catch {
                recycle(&easy)
                transfer.engine.machine.failedToStart()
                finish(transfer, error: error, info: CurlTransferInfo())
                return
            }
            let code = curl_multi_add_handle(multi, easy.raw)
            guard code == CURLM_OK else {
                recycle(&easy)
                transfer.engine.machine.failedToStart()
                let text = String(cString: curl_multi_strerror(code))
                finish(transfer, error: .other(code: Int(code.rawValue), text), info: CurlTransferInfo())
                return
            }
            transfer.engine.easy = easy
            active[ObjectIdentifier(transfer)] = transfer
            activeTransfers.add(1, ordering: .relaxed)
        }
    }

    private func resumeSend(_ transfer: CurlTransfer) {
        guard transfer.engine.sendPaused, let easy = transfer.engine.easy else { return }
        transfer.engine.sendPaused = false
        // CURLPAUSE_CONT would also unpause a receive side held back by back-pressure.
        let mask = transfer.engine.receivePaused ? gw_pause_recv() : gw_pause_cont()
        _ = curl_easy_pause(easy.raw, mask)
    }

    private func resumeReceive(_ transfer: CurlTransfer) {
        transfer.receiveResumeQueued.store(false, ordering: .releasing)
        guard transfer.engine.receivePaused, let easy = transfer.engine.easy else { return }
        if transfer.responsePaused.load(ordering: .acquiring) { return }
        transfer.engine.receivePaused = false
        let mask = transfer.engine.sendPaused ? gw_pause_send() : gw_pause_cont()
        // May call the write callback with the held-back part before it returns (and that may pause again).
        _ = curl_easy_pause(easy.raw, mask)
    }

    private func stop(_ transfer: CurlTransfer, reason: CurlTransfer.StopReason) {
        switch transfer.engine.machine.stop(reason) {
        case .none:
            return
        case .finish(let error):
            finish(transfer, error: error, info: CurlTransferInfo())
        case .removeHandleAndFinish(let error):
            let info = detach(transfer)
            finish(transfer, error: error, info: info)
        }
    }

    private func finishCompletedTransfers() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let raw = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var contextPointer: UnsafeMutableRawPointer?
            _ = gw_easy_getinfo_ptr(raw, CURLINFO_PRIVATE, &contextPointer)
            guard let contextPointer else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(contextPointer).takeUnretainedValue()
            // Only a failure needs its message and whether the request went out (for the retry decision).
            let failed = code != CURLE_OK
            let messageText = failed ? transfer.engine.easy?.message(for: code) ?? "" : ""
            let requestWasSent = failed ? transfer.engine.easy?.requestWasSent(requestBodyBytes: 0) ?? false : false
            let outcome = transfer.engine.machine.curlDone(
                code: Int(code.rawValue),
                message: messageText,
                stop: transfer.stopReason,
                requestWasSent: requestWasSent
            )
            let info = detach(transfer)
            if case .some(let error) = outcome {
                finish(transfer, error: error, info: info)
            }
        }
    }

    /// Removes the transfer's handle from the multi handle, gathers its info and puts the handle on the free list.
    private func detach(_ transfer: CurlTransfer) -> CurlTransferInfo {
        active.removeValue(forKey: ObjectIdentifier(transfer))
        guard var easy = transfer.engine.easy else { return CurlTransferInfo() }
        transfer.engine.easy = nil
        activeTransfers.subtract(1, ordering: .relaxed)
        _ = curl_multi_remove_handle(multi, easy.raw)
        let info = easy.info(
            requestBodyBytes: transfer.engine.requestBodyBytes,
            responseBodyBytes: transfer.engine.responseBodyBytes
        )
        recycle(&easy)
        return info
    }

    private func recycle(_ easy: inout EasyHandle) {
        if freeHandles.count < Self.maxFreeHandles {
            easy.recycle()
            freeHandles.append(easy)
        } else {
            easy.destroy()
        }
    }

    private func finish(_ transfer: CurlTransfer, error: CurlError?, info: CurlTransferInfo) {
        let delegate = transfer.engine.delegate
        transfer.engine.delegate = nil
        delegate?.transfer(transfer, didFinishWith: error, info: info)
    }
}
