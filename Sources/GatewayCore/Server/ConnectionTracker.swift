import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that a graceful shutdown can ask each to finish its current request
/// and close, and force-close whatever is left when `drain_timeout` runs out.
public final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())

    public init() {}

    public func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    public var count: Int { channels.withLockedValue { $0.count } }

    /// Tells every connection to close once its in-flight request is done (idle ones close now).
    public func drainAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
    }

    public func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }
}

/// Sent down each connection's pipeline at shutdown.
public struct DrainEvent: Sendable {}
