import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that a graceful shutdown can ask each to finish its current request
/// and close, and force-close whatever is left when `drain_timeout` runs out.
public final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())

    public init() {}

    public func track(_ channel: any Channel) {
        _ = track(channel, limit: .max)
    }

    /// Tracks `channel` unless `limit` connections are tracked already; the check and the insertion are one locked
    /// step, so connections accepted at once on several event loops cannot together pass the limit.
    /// - Returns: false when the connection is over the limit (it is then not tracked).
    public func track(_ channel: any Channel, limit: Int) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = channels.withLockedValue { channels in
            guard channels.count < limit else { return false }
            channels[id] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: id) }
        }
        return true
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
