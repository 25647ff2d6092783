import NIOConcurrencyHelpers
import Synchronization

/// The bytes held by every tunnel of one `CurlTunnelClient` together: read from one side and not yet written to the
/// other, in both directions. Each tunnel also has its own limit (`CurlTunnelRequest.bufferLimit`); this one bounds
/// the sum, so a thousand tunnels whose clients read nothing hold `totalBufferLimit` bytes, not a thousand
/// `bufferLimit`s. At the limit a tunnel stops reading the side that would add more (the upstream on its curl thread,
/// the client through `send` returning false) until the others have passed some on.
///
/// Held tunnels are looked at again on every pass of their thread; `give` wakes the threads once after a hold, so
/// room that appears while a thread sleeps is seen at once.
final class CurlTunnelBudget: Sendable {
    private let used = Atomic<Int>(0)
    /// A tunnel is held for room: the next `give` wakes the threads.
    private let waiting = Atomic<Bool>(false)
    private let wakers = NIOLockedValueBox<[@Sendable () -> Void]>([])

    /// Bytes held now, over all tunnels.
    var bytes: Int { used.load(ordering: .relaxed) }

    func hasRoom(below limit: Int) -> Bool { used.load(ordering: .relaxed) < limit }

    func take(_ count: Int) {
        used.add(count, ordering: .relaxed)
    }

    func give(_ count: Int) {
        guard count > 0 else { return }
        used.subtract(count, ordering: .relaxed)
        if waiting.load(ordering: .relaxed), waiting.exchange(false, ordering: .acquiringAndReleasing) {
            for wake in wakers.withLockedValue({ $0 }) { wake() }
        }
    }

    /// A tunnel is held until there is room: the next `give` wakes the threads to look again.
    func awaitRoom() {
        if !waiting.load(ordering: .relaxed) { waiting.store(true, ordering: .releasing) }
    }

    func addWaker(_ wake: @escaping @Sendable () -> Void) {
        wakers.withLockedValue { $0.append(wake) }
    }
}
