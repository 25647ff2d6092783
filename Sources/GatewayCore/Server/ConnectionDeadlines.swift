import NIOCore

/// Client-side timeouts (`idle_timeout`, `client_timeout`) of every connection on one event loop, checked
/// by one repeating sweep instead of a scheduled task per connection and request.
///
/// Arming or disarming a deadline is a field write on the handler; scheduling and cancelling a NIO task
/// for each of them cost a heap insertion and removal on every request. Deadlines fire within
/// `resolution` of their time, which is fine for timeouts counted in seconds (nginx's are as coarse).
/// Created off the loop at start-up, then used only on `eventLoop` (every method asserts it).
final class ConnectionDeadlines: @unchecked Sendable {
    let eventLoop: any EventLoop
    let resolution: TimeAmount
    /// Handlers with a deadline armed or not, and where each is in that array, for O(1) removal. The slots
    /// live here, not on the handler: nothing outside a handler writes its fields.
    private var handlers: [ProxyHandler] = []
    private var slots: [ObjectIdentifier: Int] = [:]
    private var sweep: RepeatedTask?

    init(eventLoop: any EventLoop, resolution: TimeAmount = .milliseconds(100)) {
        self.eventLoop = eventLoop
        self.resolution = resolution
    }

    func register(_ handler: ProxyHandler) {
        eventLoop.assertInEventLoop()
        guard slots[ObjectIdentifier(handler)] == nil else { return }
        slots[ObjectIdentifier(handler)] = handlers.count
        handlers.append(handler)
        if sweep == nil {
            let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
            sweep = eventLoop.scheduleRepeatedTask(initialDelay: resolution, delay: resolution) { _ in
                loopBound.value.fireExpired()
            }
        }
    }

    func unregister(_ handler: ProxyHandler) {
        eventLoop.assertInEventLoop()
        guard let slot = slots.removeValue(forKey: ObjectIdentifier(handler)) else { return }
        let last = handlers.removeLast()
        if slot < handlers.count {
            handlers[slot] = last
            slots[ObjectIdentifier(last)] = slot
        }
    }

    private func fireExpired() {
        guard !handlers.isEmpty else { return }
        let now = NIODeadline.now()
        // Collect first: a handler that fires may close and unregister, which reorders the array.
        var expired: [ProxyHandler] = []
        for handler in handlers where handler.deadline.map({ $0 <= now }) == true {
            expired.append(handler)
        }
        for handler in expired { handler.deadlineExpired() }
    }
}
