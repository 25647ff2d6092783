#if canImport(Glibc)
import GatewayCore

/// An engine tunnel as the `TunnelRegistry` sees it (issue 23): closing it from another thread (a revocation, the
/// end of a drain) posts the close to the tunnel's worker, which owns its sockets.
final class EngineTunnelHandle: ClosableTunnel {
    let serial: UInt64
    private let mailbox: EngineMailbox<EngineWorkerMail>

    init(serial: UInt64, mailbox: EngineMailbox<EngineWorkerMail>) {
        self.serial = serial
        self.mailbox = mailbox
    }

    func close(reason: String) {
        let serial = self.serial
        _ = mailbox.post(.perform { worker in worker.closeTunnel(serial: serial, reason: reason) })
    }
}
#endif
