import NIOHTTP1

/// HTTP/1.1 pipelining (RFC 9112 section 9.3.2): a client may send its next requests before the answer to the
/// current one, and they must be answered one at a time, in the order they came. This decides, for everything the
/// parser delivers, whether the proxy handles it now or holds it until the current answer has ended.
///
/// Only requests that really arrive early are held. Between requests nothing is withheld, so a keep-alive client
/// that waits for each answer (nearly all of them) costs no change to the connection's read interest; NIO's own
/// pipelining handler withholds reads after every request for the sake of the rare pipelining client.
struct RequestSequencer {
    /// What the parser delivered, in order.
    enum Event {
        case part(HTTPServerRequestPart)
        /// The bytes after the last complete part are not HTTP: answered (in turn) with this error, then the
        /// connection closes.
        case malformed(GatewayError)
    }

    /// Events of requests whose turn has not come, oldest first.
    private var held: [Event] = []
    private var heldStart = 0
    /// A request's head was handed over and its end not yet.
    private(set) var requestInProgress = false
    /// A request's head was handed over and its answer has not ended.
    private(set) var responseInFlight = false

    /// Whether events are held; reads from the client wait until they are handed over.
    var isHolding: Bool { heldStart < held.count }

    /// An event from the parser: returned when the proxy handles it now, nil when it is held for later.
    mutating func receive(_ event: Event) -> Event? {
        if !isHolding && mayHandOver {
            handOver(event)
            return event
        }
        held.append(event)
        return nil
    }

    /// The answer to the current request has ended and the connection stays open.
    mutating func responseEnded() {
        responseInFlight = false
    }

    /// The next held event whose turn has come, if any; call until nil after `responseEnded`.
    mutating func next() -> Event? {
        guard isHolding, mayHandOver else { return nil }
        let event = held[heldStart]
        heldStart += 1
        if heldStart == held.count {
            held.removeAll(keepingCapacity: true)
            heldStart = 0
        }
        handOver(event)
        return event
    }

    /// Drops everything held (the connection is gone).
    mutating func reset() {
        held.removeAll()
        heldStart = 0
        requestInProgress = false
        responseInFlight = false
    }

    /// The rest of the current request (its body, its end, a parse error in it) always goes on; a new request or
    /// what follows it waits until the answer before it has ended.
    private var mayHandOver: Bool {
        requestInProgress || !responseInFlight
    }

    private mutating func handOver(_ event: Event) {
        switch event {
        case .part(.head):
            requestInProgress = true
            responseInFlight = true
        case .part(.end):
            requestInProgress = false
        case .part(.body), .malformed:
            break
        }
    }
}
