import NIOConcurrencyHelpers
import NIOCore

/// A route's upstreams and their shared selection state, used from every event loop.
public final class UpstreamPool: Sendable {
    public let upstreams: [UpstreamURL]
    private let selection: NIOLockedValueBox<UpstreamSelection>

    public init(upstreams: [UpstreamURL]) {
        self.upstreams = upstreams
        self.selection = NIOLockedValueBox(UpstreamSelection(count: upstreams.count))
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    public func pick(excluding excluded: Int? = nil) -> Int? {
        if upstreams.count == 1 { return excluded == 0 ? nil : 0 }
        return selection.withLockedValue { $0.pick(now: Self.now(), excluding: excluded) }
    }

    public func recordConnectFailure(_ index: Int) {
        selection.withLockedValue { $0.recordConnectFailure(index, now: Self.now()) }
    }

    public func recordSuccess(_ index: Int) {
        if upstreams.count == 1 { return }
        selection.withLockedValue { $0.recordSuccess(index) }
    }
}
