#if canImport(Glibc)
import Glibc

extension EngineWorker {
    /// The mailbox's `eventfd` is readable: every mail posted so far, in order.
    func takeMail() {
        for mail in mailbox.takeAll() {
            switch mail {
            case .drain: beginDrain()
            case .closeAll: closeEveryConnection()
            case .perform(let work): work(self)
            }
        }
    }

    /// SIGTERM (`EngineConnection.drain`): the listener closes (with every worker's closed, the kernel refuses new
    /// connections), idle connections close now, the rest after the request they are answering.
    func beginDrain() {
        guard !draining else { return }
        draining = true
        epoll.drop(listener)
        epoll.forget(listener)
        close(listener)
        for case let client? in clients where client.isOpen {
            switch client.connection.drain(hasPartialHead: client.filled > client.parsed || client.parsed > 0) {
            case .close where client.pendingOutput == 0: destroy(client)
            case .close, .finishThenClose, .none: break
            }
        }
    }

    /// The drain deadline passed: whatever is still open closes, its transfer aborted.
    func closeEveryConnection() {
        for case let client? in clients where client.isOpen {
            if client.request != nil {
                client.request?.status = 499
                finish(client, error: "shutdown")
            }
            destroy(client)
        }
    }
}
#endif
